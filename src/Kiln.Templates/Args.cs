namespace Kiln.Templates;

/// <summary>Positional and keyword arguments of a filter, test, global or method call, bound Python-style.</summary>
internal sealed class Args(string owner, List<object?> positional, List<KeyValuePair<string, object?>> keywords)
{
    public List<object?> Positional { get; } = positional;

    public List<KeyValuePair<string, object?>> Keywords { get; } = keywords;

    public static readonly List<KeyValuePair<string, object?>> NoKeywords = [];

    /// <summary>Argument number <paramref name="index"/> (positional) or by <paramref name="name"/>; <paramref name="fallback"/> when absent.</summary>
    public object? Get(int index, string name, object? fallback = null)
    {
        foreach (var kv in Keywords)
            if (kv.Key == name) return kv.Value;
        return index < Positional.Count ? Positional[index] : fallback;
    }

    public bool Has(int index, string name) => index < Positional.Count || Keywords.Any(k => k.Key == name);

    public object? Required(int index, string name) =>
        Has(index, name) ? Get(index, name) : throw new TemplateException($"{owner}() missing required argument '{name}'");

    public long Int(int index, string name, long fallback) => Has(index, name) ? Py.ToInt(Get(index, name)) : fallback;

    public bool Bool(int index, string name, bool fallback) => Has(index, name) ? Py.Truthy(Get(index, name)) : fallback;

    public string? Str(int index, string name) => Get(index, name) is { } v and not Undefined ? Py.Str(v) : null;

    /// <summary>Rejects more than <paramref name="max"/> positional arguments, as Python would.</summary>
    public Args Max(int max)
    {
        if (Positional.Count > max) throw new TemplateException($"{owner}() takes at most {max} argument(s) ({Positional.Count} given)");
        return this;
    }
}
