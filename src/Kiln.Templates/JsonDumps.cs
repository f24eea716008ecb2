using System.Globalization;
using System.Text;

namespace Kiln.Templates;

/// <summary>Python's json.dumps, as transformers' tojson filter calls it (ensure_ascii=False by default).</summary>
internal static class JsonDumps
{
    private sealed record Options(bool EnsureAscii, string? Indent, string ItemSeparator, string KeySeparator, bool SortKeys);

    /// <summary>tojson(ensure_ascii=False, indent=None, separators=None, sort_keys=False).</summary>
    public static string Dumps(object? value, Args a)
    {
        var indentArg = a.Get(1, "indent");
        string? indent = indentArg switch
        {
            null => null,
            string s => s,
            _ => new string(' ', (int)Math.Clamp(Py.ToInt(indentArg), 0, 64)),
        };
        string itemSep = indent is null ? ", " : ",", keySep = ": ";
        if (a.Get(2, "separators") is { } seps)
        {
            var pair = Py.ToList(seps is PyTuple t ? t.Items.ToList() : seps);
            if (pair.Count != 2) throw new TemplateException("separators must be an (item_separator, key_separator) pair");
            itemSep = Py.Str(pair[0]);
            keySep = Py.Str(pair[1]);
        }
        var options = new Options(a.Bool(0, "ensure_ascii", false), indent, itemSep, keySep, a.Bool(3, "sort_keys", false));
        var sb = new StringBuilder();
        Write(sb, value, options, 0);
        return sb.ToString();
    }

    public static string Dumps(object? value) => Dumps(value, new Args("tojson", [], Args.NoKeywords));

    private static void Write(StringBuilder sb, object? value, Options o, int level)
    {
        if (level > 256) throw new TemplateException("value nested too deeply for tojson");
        if (sb.Length > Limits.MaxString) throw new TemplateException("tojson output exceeds size limit");
        switch (value)
        {
            case null: sb.Append("null"); break;
            case bool b: sb.Append(b ? "true" : "false"); break;
            case long l: sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
            case double d: sb.Append(Float(d)); break;
            case string s: WriteString(sb, s, o.EnsureAscii); break;
            case List<object?> or PyTuple:
                {
                    var items = value is PyTuple t ? t.Items : (List<object?>)value;
                    if (items.Count == 0)
                    {
                        sb.Append("[]");
                        break;
                    }
                    sb.Append('[');
                    for (var i = 0; i < items.Count; i++)
                    {
                        Separate(sb, o, level + 1, i > 0);
                        Write(sb, items[i], o, level + 1);
                    }
                    Close(sb, o, level);
                    sb.Append(']');
                    break;
                }
            case PyDict d:
                {
                    if (d.Count == 0)
                    {
                        sb.Append("{}");
                        break;
                    }
                    var pairs = d.Select(kv => (Key: KeyString(PyDict.Unkey(kv.Key)), kv.Value)).ToList();
                    if (o.SortKeys) pairs = [.. pairs.OrderBy(p => p.Key, StringComparer.Ordinal)];
                    sb.Append('{');
                    for (var i = 0; i < pairs.Count; i++)
                    {
                        Separate(sb, o, level + 1, i > 0);
                        WriteString(sb, pairs[i].Key, o.EnsureAscii);
                        sb.Append(o.KeySeparator);
                        Write(sb, pairs[i].Value, o, level + 1);
                    }
                    Close(sb, o, level);
                    sb.Append('}');
                    break;
                }
            default:
                throw new TemplateException($"Object of type {Py.TypeName(value)} is not JSON serializable");
        }
    }

    private static void Separate(StringBuilder sb, Options o, int level, bool notFirst)
    {
        if (notFirst) sb.Append(o.ItemSeparator);
        if (o.Indent is not null) sb.Append('\n').Insert(sb.Length, o.Indent, level);
    }

    private static void Close(StringBuilder sb, Options o, int level)
    {
        if (o.Indent is not null) sb.Append('\n').Insert(sb.Length, o.Indent, level);
    }

    private static string KeyString(object? key) => key switch
    {
        string s => s,
        bool b => b ? "true" : "false",
        null => "null",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => Float(d),
        _ => throw new TemplateException($"keys must be str, int, float, bool or None, not {Py.TypeName(key)}"),
    };

    private static string Float(double d) =>
        double.IsNaN(d) ? "NaN" : double.IsPositiveInfinity(d) ? "Infinity" : double.IsNegativeInfinity(d) ? "-Infinity" : PyStr.FloatRepr(d);

    private static void WriteString(StringBuilder sb, string s, bool ensureAscii)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || (ensureAscii && c > 0x7e)) sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }
}
