namespace Kiln.Engine.Serving;

/// <summary>
/// Reuses the strings of short released text pieces: a streamed token's text is usually one of a
/// few thousand pieces, so handing out the same string again saves an allocation per token.
/// A direct-mapped table: a piece that collides just replaces the entry. Strings are immutable and
/// an entry is only returned after a full comparison, so sharing one table across threads is safe.
/// </summary>
public sealed class TextPieces
{
    private const int MaxLength = 32;
    private readonly string?[] _table = new string?[4096];

    public string Get(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty) return string.Empty;
        if (text.Length > MaxLength) return new string(text);
        var slot = (int)((uint)string.GetHashCode(text) % (uint)_table.Length);
        var cached = _table[slot];
        if (cached is not null && text.SequenceEqual(cached)) return cached;
        var created = new string(text);
        _table[slot] = created;
        return created;
    }
}
