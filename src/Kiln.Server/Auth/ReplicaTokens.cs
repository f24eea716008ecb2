using System.Security.Cryptography;
using System.Text;

namespace Kiln.Server.Auth;

/// <summary>
/// Bearer tokens the control plane mints for the replicas it starts, so that a replica on another
/// node can download its account's model files without an API key: <c>kiln-replica.&lt;account&gt;.&lt;replica&gt;.&lt;mac&gt;</c>,
/// the MAC an HMAC-SHA256 of account and replica under a secret kept in the data directory (mode
/// 0600). A token is good for downloads only (the middleware refuses it elsewhere) and for as long
/// as the secret stays.
/// </summary>
public sealed class ReplicaTokens(byte[] secret)
{
    private const string Prefix = "kiln-replica.";

    /// <summary>Tokens under the secret in <paramref name="file"/>, which is created (0600) with 32 random bytes if missing.</summary>
    public static ReplicaTokens FromFile(string file)
    {
        if (!File.Exists(file))
        {
            var fresh = RandomNumberGenerator.GetBytes(32);
            var temp = file + ".tmp";
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }
            using (var s = new FileStream(temp, options))
            {
                s.Write(fresh);
            }
            // Two servers starting at once on one directory: the first secret in place wins.
            try
            {
                File.Move(temp, file, overwrite: false);
            }
            catch (IOException) when (File.Exists(file))
            {
                File.Delete(temp);
            }
        }
        return new ReplicaTokens(File.ReadAllBytes(file));
    }

    /// <summary>True when <paramref name="token"/> looks like a replica token (it may still be forged).</summary>
    public static bool LooksLikeOne(string token) => token.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>The token of replica <paramref name="replicaId"/> of account <paramref name="account"/>.</summary>
    public string Mint(string account, string replicaId) => $"{Prefix}{account}.{replicaId}.{Mac(account, replicaId)}";

    /// <summary>The account and replica of a genuine token; false for anything else.</summary>
    public bool TryVerify(string token, out string account, out string replicaId)
    {
        account = replicaId = "";
        if (!LooksLikeOne(token))
        {
            return false;
        }
        var parts = token[Prefix.Length..].Split('.');
        if (parts.Length != 3 || parts.Any(p => p.Length == 0))
        {
            return false;
        }
        var expected = Encoding.ASCII.GetBytes(Mac(parts[0], parts[1]));
        if (!CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(parts[2])))
        {
            return false;
        }
        (account, replicaId) = (parts[0], parts[1]);
        return true;
    }

    private string Mac(string account, string replicaId) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes($"kiln-replica-download\n{account}\n{replicaId}")));
}
