using System.Security.Cryptography;

namespace Kiln.Server.Logging;

/// <summary>
/// Random IDs in lowercase hex (as a GUID's "N" digits), for request IDs, response IDs and usage
/// keys, from OpenSSL's generator drawn a block at a time per thread: <see cref="Guid.NewGuid"/>
/// reads <c>/dev/urandom</c> here, and each draw from OpenSSL makes a <c>getpid</c> call, so either
/// cost a system call on every request of the gateway and the replica.
/// </summary>
public static class RandomIds
{
    private const int BlockBytes = 512;

    [ThreadStatic]
    private static byte[]? t_block;

    [ThreadStatic]
    private static int t_used;

    /// <summary><paramref name="prefix"/> and <paramref name="hexDigits"/> (even, at most 64) random hex digits.</summary>
    public static string New(string prefix, int hexDigits)
    {
        if (hexDigits is <= 0 or > 64 || hexDigits % 2 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(hexDigits), hexDigits, "an even count from 2 to 64");
        }
        var count = hexDigits / 2;
        var block = t_block ??= new byte[BlockBytes];
        if (t_used == 0 || t_used + count > BlockBytes)
        {
            RandomNumberGenerator.Fill(block);
            t_used = 0;
        }
        var bytes = block.AsSpan(t_used, count);
        t_used += count;
        Span<char> id = stackalloc char[prefix.Length + hexDigits];
        prefix.CopyTo(id);
        Convert.TryToHexStringLower(bytes, id[prefix.Length..], out _);
        return new string(id);
    }
}
