namespace Kiln.Core.ModelFiles;

/// <summary>
/// The SHA-256 a download's source publishes for the file, read from its response headers:
/// Hugging Face's <c>X-Linked-ETag</c> (on the redirect of a Git LFS file it is the file's SHA-256),
/// Kiln's own <c>X-Kiln-Sha256</c>, or an <c>ETag</c> that is a SHA-256 (<c>"&lt;hex&gt;"</c> or
/// <c>"sha256:&lt;hex&gt;"</c>). Other ETags (an MD5, a version tag) say nothing about the content.
/// </summary>
public static class PublishedDigest
{
    /// <summary>The headers read, most specific first.</summary>
    public static readonly IReadOnlyList<string> Headers = ["X-Linked-ETag", "X-Kiln-Sha256", "ETag"];

    /// <summary>The published SHA-256 (lowercase hex), or null; <paramref name="header"/> looks a header's value up by name.</summary>
    public static string? Find(Func<string, string?> header)
    {
        foreach (var name in Headers)
        {
            if (FromValue(header(name)) is { } sha)
            {
                return sha;
            }
        }
        return null;
    }

    /// <summary>A SHA-256 in one header value, or null: weak markers, quotes and a <c>sha256:</c> prefix are removed.</summary>
    public static string? FromValue(string? value)
    {
        var v = value?.Trim() ?? "";
        if (v.StartsWith("W/", StringComparison.Ordinal))
        {
            v = v[2..];
        }
        v = v.Trim('"');
        if (v.StartsWith("sha256:", StringComparison.OrdinalIgnoreCase))
        {
            v = v["sha256:".Length..];
        }
        return v.Length == 64 && v.All(char.IsAsciiHexDigit) ? v.ToLowerInvariant() : null;
    }
}
