namespace Kiln.Core.ModelSources;

/// <summary>
/// A parsed model source. The kinds are told apart by their text alone, so the client and the
/// server read a source the same way: <c>hf://</c> is a Hugging Face file, <c>http(s)://</c> a URL,
/// any other scheme is refused, a bare lowercase name (<c>tinyllama-1.1b-chat</c>) is a catalog ID,
/// and anything else is a local path (write <c>./name</c> for a local file named like a catalog ID).
/// </summary>
public sealed record ModelSource
{
    private ModelSource(ModelSourceKind kind, string text)
    {
        Kind = kind;
        Text = text;
    }

    /// <summary>Which kind of source.</summary>
    public ModelSourceKind Kind { get; }

    /// <summary>The source as given (trimmed).</summary>
    public string Text { get; }

    /// <summary>The URL, for <see cref="ModelSourceKind.Url"/>.</summary>
    public Uri? Url { get; private init; }

    /// <summary>The file, for <see cref="ModelSourceKind.HuggingFace"/>.</summary>
    public HuggingFaceFile? HuggingFace { get; private init; }

    /// <summary>Longest catalog ID.</summary>
    public const int MaxCatalogIdLength = 63;

    /// <summary>Reads <paramref name="text"/>; false with the reason when it names no usable source.</summary>
    public static bool TryParse(string? text, out ModelSource source, out string error)
    {
        source = null!;
        error = "";
        var t = text?.Trim() ?? "";
        if (t.Length == 0)
        {
            error = "a source is required: a path, an http(s):// URL, hf://owner/repo/file.gguf or a catalog ID";
            return false;
        }
        var scheme = t.IndexOf("://", StringComparison.Ordinal);
        if (scheme > 0 && char.IsAsciiLetter(t[0]) && t[..scheme].All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.'))
        {
            return ParseWithScheme(t, t[..scheme].ToLowerInvariant(), out source, out error);
        }
        source = IsCatalogId(t) ? new ModelSource(ModelSourceKind.Catalog, t) : new ModelSource(ModelSourceKind.LocalPath, t);
        return true;
    }

    /// <summary>Whether <paramref name="text"/> has the shape of a catalog ID: lowercase letters, digits, '.', '-' and '_', starting with a letter or digit, not a file name ending in <c>.gguf</c>.</summary>
    public static bool IsCatalogId(string text) =>
        text.Length is > 0 and <= MaxCatalogIdLength
        && (char.IsAsciiLetterLower(text[0]) || char.IsAsciiDigit(text[0]))
        && text.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '-' or '_')
        && !text.EndsWith(".gguf", StringComparison.Ordinal);

    private static bool ParseWithScheme(string t, string scheme, out ModelSource source, out string error)
    {
        source = null!;
        error = "";
        switch (scheme)
        {
            case "http" or "https":
                if (!Uri.TryCreate(t, UriKind.Absolute, out var url) || url.Host.Length == 0)
                {
                    error = $"\"{t}\" is not a valid URL";
                    return false;
                }
                source = new ModelSource(ModelSourceKind.Url, t) { Url = url };
                return true;
            case "hf":
                if (!TryParseHuggingFace(t["hf://".Length..], out var file, out error))
                {
                    error = $"\"{t}\": {error}";
                    return false;
                }
                source = new ModelSource(ModelSourceKind.HuggingFace, t) { HuggingFace = file };
                return true;
            default:
                error = $"\"{t}\": the scheme {scheme}:// is not supported; use https://, http:// or hf://";
                return false;
        }
    }

    private static bool TryParseHuggingFace(string rest, out HuggingFaceFile file, out string error)
    {
        file = null!;
        error = "";
        var parts = rest.Split('/');
        if (parts.Length < 3 || parts.Any(p => p.Length == 0))
        {
            error = "an hf:// source is hf://<owner>/<repo>[@<revision>]/<file>.gguf";
            return false;
        }
        var repo = parts[1];
        var revision = "main";
        if (repo.IndexOf('@') is var at and >= 0)
        {
            (repo, revision) = (repo[..at], repo[(at + 1)..]);
        }
        foreach (var (name, value) in new[] { ("owner", parts[0]), ("repo", repo), ("revision", revision) })
        {
            if (!IsHubName(value))
            {
                error = $"the {name} \"{value}\" may hold only letters, digits, '-', '_' and '.'";
                return false;
            }
        }
        var path = parts[2..];
        if (path.Any(p => p is "." or ".."))
        {
            error = "the file path may not contain '.' or '..' segments";
            return false;
        }
        if (!path[^1].EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
        {
            error = "the file must be a .gguf file";
            return false;
        }
        file = new HuggingFaceFile(parts[0], repo, revision, string.Join('/', path));
        return true;
    }

    private static bool IsHubName(string s) =>
        s.Length is > 0 and <= 96 && s is not ("." or "..") && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}
