using System.Buffers.Text;
using System.Text;
using Kiln.Core.Errors;

namespace Kiln.Store;

/// <summary>
/// Opaque page tokens: the last key of the previous page, bound to the list they came from so a
/// token cannot be replayed against another account or collection. Keyset paging stays correct
/// while rows are inserted or deleted between pages.
/// </summary>
internal static class PageTokens
{
    private const string Version = "k1";

    public static string Encode(string scope, string lastKey) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{Version}\n{scope}\n{lastKey}"));

    /// <summary>The last key, or null for the first page; INVALID_ARGUMENT for a foreign or damaged token.</summary>
    public static string? Decode(string scope, string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }
        try
        {
            var parts = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token)).Split('\n');
            if (parts.Length == 3 && parts[0] == Version && parts[1] == scope)
            {
                return parts[2];
            }
        }
        catch (FormatException)
        {
        }
        throw KilnError.InvalidArgument($"invalid pageToken \"{token}\": it does not belong to this list");
    }
}
