using System.Security.Cryptography;

namespace Kiln.Server.Logging;

/// <summary>
/// Random IDs in lowercase hex (as a GUID's "N" digits), for request IDs, response IDs and usage
/// keys. From OpenSSL's generator: <see cref="Guid.NewGuid"/> reads <c>/dev/urandom</c> here, a
/// system call on every request of the gateway and the replica.
/// </summary>
public static class RandomIds
{
    /// <summary><paramref name="prefix"/> and <paramref name="hexDigits"/> (even, at most 64) random hex digits.</summary>
    public static string New(string prefix, int hexDigits)
    {
        if (hexDigits is <= 0 or > 64 || hexDigits % 2 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(hexDigits), hexDigits, "an even count from 2 to 64");
        }
        Span<byte> bytes = stackalloc byte[hexDigits / 2];
        RandomNumberGenerator.Fill(bytes);
        Span<char> id = stackalloc char[prefix.Length + hexDigits];
        prefix.CopyTo(id);
        Convert.TryToHexStringLower(bytes, id[prefix.Length..], out _);
        return new string(id);
    }
}
