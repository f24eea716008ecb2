namespace Kiln.Core.Listing;

/// <summary>
/// A list's <c>orderBy</c>, as AIP-132 writes it: fields separated by commas, each optionally
/// followed by <c>asc</c> (the default) or <c>desc</c>, e.g. <c>create_time desc, name</c>. Items
/// equal on every field are ordered by their ID, so the order, and so paging, is total.
/// </summary>
public sealed class OrderBy
{
    private readonly IReadOnlyList<(ListField Field, bool Descending)> _terms;

    private OrderBy(IReadOnlyList<(ListField, bool)> terms) => _terms = terms;

    /// <summary>By ID alone (an empty <c>orderBy</c>).</summary>
    public static OrderBy ById { get; } = new([]);

    /// <summary>The terms, for display and tests: (field name, descending).</summary>
    public IEnumerable<(string Field, bool Descending)> Terms => _terms.Select(t => (t.Field.Name, t.Descending));

    /// <summary>Parses <paramref name="text"/>; INVALID_ARGUMENT on <c>orderBy</c> naming the bad part.</summary>
    public static OrderBy Parse(string? text, IReadOnlyList<ListField> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        if (string.IsNullOrWhiteSpace(text))
        {
            return ById;
        }
        var terms = new List<(ListField, bool)>();
        foreach (var part in text.Split(','))
        {
            var words = part.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (words.Length == 0)
            {
                throw FilterLexer.Error("orderBy", $"empty term in \"{text}\"; write fields separated by commas, e.g. \"create_time desc, name\"");
            }
            var field = ListField.Find(fields, words[0]) ?? throw FilterLexer.Error("orderBy",
                $"unknown field '{words[0]}'; known: {string.Join(", ", fields.Select(f => f.Name))}");
            var descending = words.Length switch
            {
                1 => false,
                2 when words[1].Equals("asc", StringComparison.OrdinalIgnoreCase) => false,
                2 when words[1].Equals("desc", StringComparison.OrdinalIgnoreCase) => true,
                _ => throw FilterLexer.Error("orderBy", $"'{string.Join(' ', words[1..])}' after '{words[0]}': expected asc or desc"),
            };
            terms.Add((field, descending));
        }
        return new OrderBy(terms);
    }

    /// <summary>The sort key of an item: the ordered fields' values.</summary>
    internal FieldValue?[] Key(Func<ListField, FieldValue?> value) => [.. _terms.Select(t => value(t.Field))];

    /// <summary>Orders two keys (with their items' IDs as the last word).</summary>
    internal int Compare(FieldValue?[] a, string aId, FieldValue?[] b, string bId)
    {
        for (var i = 0; i < _terms.Count; i++)
        {
            var c = (a[i], b[i]) switch
            {
                (null, null) => 0,
                (null, _) => -1,
                (_, null) => 1,
                ({ } x, { } y) => x.CompareTo(y),
            };
            if (c != 0)
            {
                return _terms[i].Descending ? -c : c;
            }
        }
        return string.CompareOrdinal(aId, bId);
    }

    /// <summary>The field of term <paramref name="i"/> (for decoding page tokens).</summary>
    internal ListField FieldAt(int i) => _terms[i].Field;

    internal int Count => _terms.Count;
}
