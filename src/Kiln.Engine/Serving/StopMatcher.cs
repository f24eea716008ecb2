namespace Kiln.Engine.Serving;

/// <summary>
/// Finds stop strings in streamed text, including ones spanning token boundaries. Text that could
/// still be the start of a stop string is held back until it is disambiguated, so released text
/// never has to be taken back and a stop cuts exactly before the stop string.
/// </summary>
public sealed class StopMatcher
{
    private readonly string[] _stops;
    private readonly TextPieces? _pieces;
    private char[] _held = new char[64];
    private int _length;

    /// <param name="stops">The stop strings (empty ones are ignored).</param>
    /// <param name="pieces">Where released text's strings come from, so repeated pieces share one.</param>
    public StopMatcher(IReadOnlyList<string> stops, TextPieces? pieces = null)
    {
        _stops = [.. stops.Where(s => s.Length > 0)];
        _pieces = pieces;
    }

    /// <summary>Characters released so far (the absolute offset of the first held character).</summary>
    public long Released { get; private set; }

    /// <summary>Characters currently held back.</summary>
    public int Held => _length;

    /// <summary>
    /// Adds text and returns what is safe to emit. When a stop string is found, returns the text
    /// before it, sets <paramref name="stopped"/> and drops everything after.
    /// </summary>
    public string Push(ReadOnlySpan<char> text, out bool stopped)
    {
        stopped = false;
        if (_stops.Length == 0)
        {
            Released += text.Length;
            return ToText(text);
        }
        Append(text);
        var held = _held.AsSpan(0, _length);

        var cut = -1;
        foreach (var stop in _stops)
        {
            var at = held.IndexOf(stop.AsSpan(), StringComparison.Ordinal);
            if (at >= 0 && (cut < 0 || at < cut)) cut = at;
        }
        if (cut >= 0)
        {
            stopped = true;
            return Release(cut, dropRest: true);
        }

        var keep = 0;
        foreach (var stop in _stops) keep = Math.Max(keep, LongestPrefixSuffix(held, stop));
        return Release(_length - keep, dropRest: false);
    }

    /// <summary>Releases whatever is still held (the stream ended without a stop string).</summary>
    public string Flush() => Release(_length, dropRest: true);

    private void Append(ReadOnlySpan<char> text)
    {
        if (_length + text.Length > _held.Length)
            Array.Resize(ref _held, Math.Max(_length + text.Length, _held.Length * 2));
        text.CopyTo(_held.AsSpan(_length));
        _length += text.Length;
    }

    private string Release(int count, bool dropRest)
    {
        var result = ToText(_held.AsSpan(0, count));
        Released += count;
        if (dropRest) _length = 0;
        else
        {
            _held.AsSpan(count, _length - count).CopyTo(_held);
            _length -= count;
        }
        return result;
    }

    /// <summary>Length of the longest proper prefix of <paramref name="stop"/> that ends <paramref name="text"/>.</summary>
    private static int LongestPrefixSuffix(ReadOnlySpan<char> text, string stop)
    {
        for (var k = Math.Min(stop.Length - 1, text.Length); k > 0; k--)
            if (text[^k..].SequenceEqual(stop.AsSpan(0, k))) return k;
        return 0;
    }

    private string ToText(ReadOnlySpan<char> text) =>
        text.IsEmpty ? string.Empty : _pieces?.Get(text) ?? new string(text);
}
