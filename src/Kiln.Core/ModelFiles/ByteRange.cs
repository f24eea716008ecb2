using System.Globalization;

namespace Kiln.Core.ModelFiles;

/// <summary>
/// A request's <c>Range</c> header against a file of known length (RFC 9110 section 14): one range of
/// bytes, <c>bytes=first-last</c>, <c>bytes=first-</c> or <c>bytes=-suffix</c>. Kiln's downloads
/// resume with a single range, so several ranges are refused rather than served as multipart.
/// </summary>
public readonly record struct ByteRange(long First, long Last)
{
    /// <summary>Bytes in the range.</summary>
    public long Length => Last - First + 1;

    /// <summary>The <c>Content-Range</c> value of this range of a file of <paramref name="fileLength"/> bytes.</summary>
    public string ContentRange(long fileLength) =>
        string.Create(CultureInfo.InvariantCulture, $"bytes {First}-{Last}/{fileLength}");

    /// <summary>The <c>Content-Range</c> value of a 416 answer: <c>bytes */length</c>.</summary>
    public static string Unsatisfied(long fileLength) => string.Create(CultureInfo.InvariantCulture, $"bytes */{fileLength}");

    /// <summary>
    /// Reads <paramref name="header"/>: <see cref="RangeRequest.Whole"/> when there is none, the
    /// range when it can be served, and otherwise why not (unsatisfiable, several ranges, or malformed).
    /// </summary>
    public static RangeRequest Parse(string? header, long fileLength)
    {
        if (string.IsNullOrWhiteSpace(header))
        {
            return RangeRequest.Whole;
        }
        const string unit = "bytes=";
        var text = header.Trim();
        if (!text.StartsWith(unit, StringComparison.OrdinalIgnoreCase))
        {
            return RangeRequest.Refused($"only byte ranges are served (\"bytes=first-last\"), got \"{header}\"");
        }
        var spec = text[unit.Length..].Trim();
        if (spec.Contains(','))
        {
            return RangeRequest.Refused($"only one range per request is served, got \"{header}\"");
        }
        var dash = spec.IndexOf('-');
        if (dash < 0)
        {
            return RangeRequest.Refused($"a range is \"first-last\", \"first-\" or \"-suffix\", got \"{header}\"");
        }
        var (firstText, lastText) = (spec[..dash].Trim(), spec[(dash + 1)..].Trim());
        long? first = firstText.Length == 0 ? null : Number(firstText);
        long? last = lastText.Length == 0 ? null : Number(lastText);
        if ((firstText.Length > 0 && first is null) || (lastText.Length > 0 && last is null) || (first is null && last is null))
        {
            return RangeRequest.Refused($"a range is \"first-last\", \"first-\" or \"-suffix\" in whole bytes, got \"{header}\"");
        }
        if (first is null)
        {
            // A suffix: the last N bytes (all of them when N exceeds the file).
            return last == 0 || fileLength == 0
                ? RangeRequest.Refused($"the range \"{header}\" selects no bytes of a {fileLength}-byte file")
                : RangeRequest.Of(new ByteRange(Math.Max(0, fileLength - last!.Value), fileLength - 1));
        }
        if (last is { } l && l < first)
        {
            return RangeRequest.Refused($"the range \"{header}\" ends before it starts");
        }
        if (first >= fileLength)
        {
            return RangeRequest.Refused($"the range \"{header}\" starts at or past the end of a {fileLength}-byte file");
        }
        return RangeRequest.Of(new ByteRange(first.Value, Math.Min(last ?? fileLength - 1, fileLength - 1)));
    }

    private static long? Number(string text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
}

/// <summary>What to answer a request's <c>Range</c>: the whole file (200), one range (206) or a refusal (416).</summary>
/// <param name="Range">The range to send, or null for the whole file or a refusal.</param>
/// <param name="Error">Why the range cannot be served (416), or null.</param>
public sealed record RangeRequest(ByteRange? Range, string? Error)
{
    /// <summary>No range asked: the whole file.</summary>
    public static RangeRequest Whole { get; } = new(null, null);

    /// <summary>One range.</summary>
    public static RangeRequest Of(ByteRange range) => new(range, null);

    /// <summary>A range that cannot be served, and why.</summary>
    public static RangeRequest Refused(string error) => new(null, error);
}
