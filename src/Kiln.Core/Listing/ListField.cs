namespace Kiln.Core.Listing;

/// <summary>The type of a field a list may be filtered and ordered by.</summary>
public enum ListFieldKind
{
    /// <summary>Free text: compared as ordinal strings; <c>:</c> tests for a substring.</summary>
    String,
    /// <summary>One of a known set of names (a state, a type): equality only, the value must be known.</summary>
    Enum,
    /// <summary>An RFC 3339 time, written as a string literal.</summary>
    Timestamp,
    /// <summary>A number.</summary>
    Number,
    /// <summary>true or false: equality only.</summary>
    Bool,
}

/// <summary>A field of a list's items that <c>filter</c> and <c>orderBy</c> may name.</summary>
/// <param name="Name">Its snake_case name, as AIP-160 filters spell fields (the camelCase JSON name is accepted too).</param>
/// <param name="Kind">Its type.</param>
/// <param name="Values">For <see cref="ListFieldKind.Enum"/>: the names it may hold.</param>
public sealed record ListField(string Name, ListFieldKind Kind, IReadOnlyList<string>? Values = null)
{
    /// <summary>The field named <paramref name="name"/> (snake_case or camelCase, any case), or null.</summary>
    public static ListField? Find(IReadOnlyList<ListField> fields, string name)
    {
        var key = Normalize(name);
        return fields.FirstOrDefault(f => Normalize(f.Name) == key);
    }

    private static string Normalize(string name) => name.Replace("_", "", StringComparison.Ordinal).ToLowerInvariant();
}
