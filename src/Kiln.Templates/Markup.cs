using System.Runtime.CompilerServices;

namespace Kiln.Templates;

/// <summary>
/// Jinja's Markup (a "safe" string) without a separate type: a string instance is marked as markup, so
/// it acts as a plain string everywhere. Even with autoescaping off, `safe` and `escape` produce markup,
/// and `markup + str` HTML-escapes the plain operand; templates rely on that, so we reproduce it.
/// </summary>
internal static class Markup
{
    private static readonly ConditionalWeakTable<string, object> Marks = new();
    private static readonly object Mark = new();

    public static bool IsMarkup(string s) => Marks.TryGetValue(s, out _);

    /// <summary>A markup copy of <paramref name="s"/>; copying keeps shared literals unmarked.</summary>
    public static string Create(string s)
    {
        if (s.Length == 0) return s;
        var copy = new string(s.AsSpan());
        Marks.AddOrUpdate(copy, Mark);
        return copy;
    }

    public static string Escape(object? value)
    {
        var s = Py.Str(value);
        if (value is string str && IsMarkup(str)) return str;
        return Create(s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&#34;").Replace("'", "&#39;"));
    }

    /// <summary>The + operator on two strings: if either is markup, the other is escaped and the result is markup.</summary>
    public static string Concat(string a, string b)
    {
        var ma = IsMarkup(a);
        var mb = IsMarkup(b);
        if (!ma && !mb) return a + b;
        return Create((ma ? a : Escape(a)) + (mb ? b : Escape(b)));
    }
}
