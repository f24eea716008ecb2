using System.Security.Cryptography;
using System.Text;

namespace Kiln.Core.Auth;

/// <summary>
/// API keys: <c>kiln_</c> followed by 32 base62 characters (about 190 bits). Only the SHA-256 of
/// a key is stored; a fast hash is right here because keys are random, not passwords.
/// </summary>
public static class ApiKeys
{
    /// <summary>Prefix of every key, so leaked keys are easy to recognise and scan for.</summary>
    public const string Prefix = "kiln_";

    /// <summary>Random characters after the prefix.</summary>
    public const int RandomLength = 32;

    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    /// <summary>A new key from the cryptographic generator (unbiased: one uniform draw per character).</summary>
    public static string Generate() => Prefix + RandomNumberGenerator.GetString(Base62, RandomLength);

    /// <summary>True when <paramref name="key"/> has the shape of a Kiln key.</summary>
    public static bool IsWellFormed(string? key)
    {
        if (key is null || key.Length != Prefix.Length + RandomLength || !key.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }
        foreach (var c in key.AsSpan(Prefix.Length))
        {
            if (!char.IsAsciiLetterOrDigit(c))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Lowercase hex SHA-256 of the key's UTF-8 bytes: what the store keeps.</summary>
    public static string Hash(string key) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>True when <paramref name="key"/> hashes to <paramref name="storedHash"/>, compared in constant time.</summary>
    public static bool Verify(string key, string storedHash)
    {
        var actual = SHA256.HashData(Encoding.UTF8.GetBytes(key));
        Span<byte> expected = stackalloc byte[32];
        if (storedHash.Length != 64 || Convert.FromHexString(storedHash, expected, out _, out var written) != System.Buffers.OperationStatus.Done || written != 32)
        {
            return false;
        }
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    /// <summary>The first characters of a key, safe to show in listings ("kiln_AbC1…").</summary>
    public static string Redact(string key) => key.Length <= Prefix.Length + 4 ? "…" : key[..(Prefix.Length + 4)] + "…";
}
