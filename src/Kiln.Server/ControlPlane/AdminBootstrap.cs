using Kiln.Core.Auth;
using Kiln.Server.Auth;
using Kiln.Store;

namespace Kiln.Server.ControlPlane;

/// <summary>
/// First start: creates the admin account and its first API key, writes the key to a 0600 file and
/// returns it so it can be printed once. Later starts find the account and do nothing.
/// </summary>
public static class AdminBootstrap
{
    /// <summary>The account created on first start; its keys are admin keys.</summary>
    public const string AdminAccountId = Caller.AdminAccountId;

    /// <summary>ID of the first admin key.</summary>
    public const string AdminKeyId = "admin";

    /// <summary>The new admin key on first start, null afterwards.</summary>
    public static async Task<string?> EnsureAsync(IKilnStore store, DataDirectory dir, CancellationToken ct = default)
    {
        if (await store.GetAccountAsync(AdminAccountId, ct) is not null)
        {
            return null;
        }
        var key = ApiKeys.Generate();
        // The file first: a key that was stored but never written down would lock the admin out.
        WritePrivate(dir.AdminKeyFile, key + "\n");
        await store.CreateAccountAsync(new NewAccount(AdminAccountId, "Default account"), ct);
        await store.CreateApiKeyAsync(new NewApiKey(AdminAccountId, AdminKeyId, ApiKeys.Hash(key), "admin key created on first start"), ct);
        return key;
    }

    private static void WritePrivate(string path, string content)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var f = new FileStream(path, options))
        using (var w = new StreamWriter(f))
        {
            w.Write(content);
        }
        if (!OperatingSystem.IsWindows())
        {
            // UnixCreateMode applies to new files only; an old file keeps its mode otherwise.
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}
