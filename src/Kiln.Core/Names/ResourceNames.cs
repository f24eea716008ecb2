using System.Security.Cryptography;
using Kiln.Core.Errors;

namespace Kiln.Core.Names;

/// <summary>
/// Rules for the IDs of accounts, models, deployments, replicas and API keys, and random IDs.
/// </summary>
/// <remarks>
/// An ID is 1-63 characters of lowercase ASCII letters, digits and hyphens; it starts with a letter
/// and does not end with a hyphen (an RFC 1123 DNS label that starts with a letter, the rule
/// Fireworks applies). Consecutive hyphens are allowed. The rule keeps IDs safe in URLs, file
/// names and DNS without escaping.
/// </remarks>
public static class ResourceNames
{
    /// <summary>Longest allowed ID.</summary>
    public const int MaxIdLength = 63;

    /// <summary>Length of generated deployment IDs.</summary>
    public const int GeneratedIdLength = 8;

    /// <summary>The rule in words, appended to every validation message.</summary>
    public const string IdRule =
        "IDs are 1-63 characters of lowercase letters, digits and hyphens, start with a letter and do not end with a hyphen";

    private const string Letters = "abcdefghijklmnopqrstuvwxyz";
    private const string LettersAndDigits = "abcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>True when <paramref name="id"/> follows the ID rule.</summary>
    public static bool IsValidId(string? id) => ValidateId(id, "resource") is null;

    /// <summary>
    /// Null when <paramref name="id"/> is valid; otherwise a message naming the kind, the bad value,
    /// what is wrong and the rule, e.g. <c>invalid deployment ID "My-dep": "M" is not a lowercase
    /// letter, digit or hyphen (IDs are ...)</c>.
    /// </summary>
    /// <param name="id">The candidate ID.</param>
    /// <param name="kind">What the ID names, e.g. "deployment", used in the message.</param>
    public static string? ValidateId(string? id, string kind)
    {
        var problem = FindProblem(id);
        return problem is null ? null : $"invalid {kind} ID {Quote(id)}: {problem} ({IdRule})";
    }

    /// <summary>Throws INVALID_ARGUMENT unless <paramref name="id"/> follows the ID rule.</summary>
    public static string RequireValidId(string? id, string kind)
    {
        var message = ValidateId(id, kind);
        if (message is not null)
        {
            throw KilnError.InvalidArgument(message);
        }
        return id!;
    }

    /// <summary>
    /// A fresh deployment ID: <see cref="GeneratedIdLength"/> lowercase letters and digits,
    /// starting with a letter. Uses the cryptographic generator unless a seeded
    /// <paramref name="random"/> is given (for reproducible tests).
    /// </summary>
    public static string NewDeploymentId(Random? random = null)
    {
        Span<char> id = stackalloc char[GeneratedIdLength];
        if (random is null)
        {
            id[0] = Letters[RandomNumberGenerator.GetInt32(Letters.Length)];
            RandomNumberGenerator.GetItems(LettersAndDigits, id[1..]);
        }
        else
        {
            id[0] = Letters[random.Next(Letters.Length)];
            random.GetItems(LettersAndDigits, id[1..]);
        }
        return new string(id);
    }

    internal static string Quote(string? value) => value is null ? "null" : $"\"{value}\"";

    private static string? FindProblem(string? id)
    {
        if (string.IsNullOrEmpty(id))
        {
            return "it is empty";
        }
        if (id.Length > MaxIdLength)
        {
            return $"it is {id.Length} characters long";
        }
        foreach (var c in id)
        {
            if (!(c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-'))
            {
                return $"\"{c}\" is not a lowercase letter, digit or hyphen";
            }
        }
        if (id[0] is not (>= 'a' and <= 'z'))
        {
            return "it does not start with a letter";
        }
        if (id[^1] == '-')
        {
            return "it ends with a hyphen";
        }
        return null;
    }
}
