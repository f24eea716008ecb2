using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Kiln.Templates;

/// <summary>Jinja2's built-in filters (the ones chat templates use), with transformers' tojson.</summary>
internal static partial class Filters
{
    private delegate object? Filter(Evaluator ev, object? value, Args args);

    private static readonly Dictionary<string, Filter> Table = new(StringComparer.Ordinal)
    {
        ["abs"] = (_, v, a) => v switch
        {
            long l => l == long.MinValue ? throw new TemplateException("integer overflow") : (object)Math.Abs(l),
            bool b => (object)(b ? 1L : 0L),
            double d => (object)Math.Abs(d),
            _ => throw Bad("abs", v),
        },
        ["attr"] = (_, v, a) => v switch
        {
            Namespace or LoopInfo => Py.GetAttr(v, Py.Str(a.Required(0, "name"))),
            not null and not Undefined => Methods.Find(v, Py.Str(a.Required(0, "name"))) ?? Undefined.Attribute(v, a.Get(0, "name")),
            _ => Undefined.Attribute(v, a.Get(0, "name")),
        },
        ["batch"] = (ev, v, a) => Batch(ev, v, a),
        ["capitalize"] = (_, v, _) => Methods.Capitalize(Py.Str(v)),
        ["center"] = (_, v, a) => Center(Py.Str(v), (int)Math.Min(a.Int(0, "width", 80), Limits.MaxString), " "),
        ["count"] = (_, v, _) => Py.Length(v),
        ["default"] = Default,
        ["d"] = Default,
        ["dictsort"] = DictSort,
        ["escape"] = (_, v, _) => Markup.Escape(v),
        ["e"] = (_, v, _) => Markup.Escape(v),
        ["forceescape"] = (_, v, _) => Markup.Escape(Py.Str(v).AsSpan().ToString()),
        ["first"] = (_, v, _) => Py.Iterate(v).Take(1).ToList() is [var x] ? x : new Undefined("No first item, sequence was empty."),
        ["float"] = (_, v, a) => ToFloat(v, a.Get(0, "default", 0.0)),
        ["indent"] = (_, v, a) => Indent(Py.Str(v), a),
        ["int"] = (_, v, a) => ToInt(v, a.Get(0, "default", 0L), a.Int(1, "base", 10)),
        ["items"] = (_, v, _) => v switch
        {
            Undefined => new List<object?>(),
            PyDict d => Py.Generator(d.Select(kv => (object?)new PyTuple([PyDict.Unkey(kv.Key), kv.Value])).ToList()),
            _ => throw new TemplateException("Can only get item pairs from a mapping."),
        },
        ["join"] = Join,
        ["last"] = (_, v, _) => v is PyIterator
            ? throw new TemplateException("'generator' object is not reversible")
            : Py.ToList(v) is { Count: > 0 } l ? l[^1] : new Undefined("No last item, sequence was empty."),
        ["length"] = (_, v, _) => Py.Length(v),
        ["list"] = (ev, v, _) => Materialize(ev, v).ToList(),
        ["lower"] = (_, v, _) => Py.Str(v).ToLowerInvariant(),
        ["map"] = Map,
        ["max"] = (ev, v, a) => MinMax(ev, v, a, max: true),
        ["min"] = (ev, v, a) => MinMax(ev, v, a, max: false),
        ["reject"] = (ev, v, a) => Select(ev, v, a, byAttribute: false, keep: false),
        ["rejectattr"] = (ev, v, a) => Select(ev, v, a, byAttribute: true, keep: false),
        ["replace"] = (_, v, a) => Methods.Replace(Py.Str(v), Py.Str(a.Required(0, "old")), Py.Str(a.Required(1, "new")),
            a.Get(2, "count") is null ? -1 : a.Int(2, "count", -1)),
        ["reverse"] = (ev, v, _) => v switch
        {
            string s => string.Concat(PyStr.CodePoints(s).Reverse()),
            List<object?> or PyTuple => new PyIterator("list_reverseiterator", Materialize(ev, v).AsEnumerable().Reverse().ToList()),
            _ => Materialize(ev, v).AsEnumerable().Reverse().ToList(),
        },
        ["round"] = (_, v, a) => Round(v, a),
        ["safe"] = (_, v, _) => v is string s && Markup.IsMarkup(s) ? s : Markup.Create(Py.Str(v)),
        ["select"] = (ev, v, a) => Select(ev, v, a, byAttribute: false, keep: true),
        ["selectattr"] = (ev, v, a) => Select(ev, v, a, byAttribute: true, keep: true),
        ["sort"] = Sort,
        ["string"] = (_, v, _) => Py.Str(v),
        ["sum"] = Sum,
        ["title"] = (_, v, _) => Title(Py.Str(v)),
        ["tojson"] = (_, v, a) => JsonDumps.Dumps(v, a),
        ["trim"] = (_, v, a) => PyStr.Strip(Py.Str(v), a.Str(0, "chars"), true, true),
        ["unique"] = Unique,
        ["upper"] = (_, v, _) => Py.Str(v).ToUpperInvariant(),
        ["wordcount"] = (_, v, _) => (long)WordRegex().Count(Py.Str(v)),
    };

    public static bool Exists(string name) => Table.ContainsKey(name);

    public static object? Apply(Evaluator ev, string name, object? value, Args args) =>
        Table.TryGetValue(name, out var f) ? f(ev, value, args) : throw new TemplateException($"no filter named '{name}'");

    private static TemplateException Bad(string filter, object? v) =>
        v is Undefined u ? u.Fail() : new TemplateException($"filter '{filter}' cannot handle a value of type '{Py.TypeName(v)}'");

    /// <summary>Iterates a value for a filter, charging each item to the step budget.</summary>
    private static List<object?> Materialize(Evaluator ev, object? v)
    {
        var list = Py.ToList(v);
        ev.Limits.Step(list.Count);
        return list;
    }

    private static object? Default(Evaluator ev, object? v, Args a)
    {
        var fallback = a.Get(0, "default_value", "");
        var boolean = a.Bool(1, "boolean", false);
        return v is Undefined || (boolean && !Py.Truthy(v)) ? fallback : v;
    }

    /// <summary>Python's str.center: the extra space of an odd padding goes left when the width is odd.</summary>
    public static string Center(string s, int width, string fill)
    {
        var len = PyStr.Length(s);
        if (width <= len) return s;
        var marg = width - len;
        var left = marg / 2 + (marg & width & 1);
        var f = fill.Length > 0 ? fill[0] : ' ';
        return new string(f, left) + s + new string(f, marg - left);
    }

    /// <summary>Jinja's title filter: capitalizes each word, where words start after spaces, dashes and brackets.</summary>
    private static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var part in WordBeginningRegex().Split(s))
        {
            if (part.Length == 0) continue;
            sb.Append(char.ToUpperInvariant(part[0])).Append(part[1..].ToLowerInvariant());
        }
        return sb.ToString();
    }

    private static object? ToFloat(object? v, object? fallback)
    {
        switch (v)
        {
            case double or long or bool: return Py.ToFloat(v);
            case string s when double.TryParse(PyStr.Strip(s).Replace("_", ""), NumberStyles.Float, CultureInfo.InvariantCulture, out var d): return d;
            case string s when PyStr.Strip(s).ToLowerInvariant() is var t && t.TrimStart('+', '-') is "inf" or "infinity" or "nan":
                return t.TrimStart('+', '-') == "nan" ? double.NaN : t.StartsWith('-') ? double.NegativeInfinity : double.PositiveInfinity;
            default: return fallback;
        }
    }

    private static object? ToInt(object? v, object? fallback, long numberBase)
    {
        switch (v)
        {
            case long or bool: return Py.ToInt(v);
            case double d when !double.IsNaN(d) && !double.IsInfinity(d) && Math.Abs(d) < 9.2e18: return (long)Math.Truncate(d);
            case string s:
                var t = PyStr.Strip(s).Replace("_", "");
                if (numberBase == 10 && long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) return l;
                if (numberBase == 16 && long.TryParse(t.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? t[2..] : t, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var h)) return h;
                // "42.23"|int gives 42, as Jinja falls back to int(float(value)).
                return ToFloat(s, null) is double f && !double.IsNaN(f) && !double.IsInfinity(f) && Math.Abs(f) < 9.2e18 ? (long)Math.Truncate(f) : fallback;
            default: return fallback;
        }
    }

    private static string Indent(string s, Args a)
    {
        var width = a.Get(0, "width", 4L);
        var indentation = width is string w ? w : new string(' ', (int)Math.Clamp(Py.ToInt(width), 0, 1024));
        var first = a.Bool(1, "first", false);
        var blank = a.Bool(2, "blank", false);
        var lines = PyStr.SplitLines(s + "\n");
        string rv;
        if (blank)
        {
            rv = string.Join("\n" + indentation, lines);
        }
        else
        {
            rv = lines[0];
            if (lines.Count > 1)
                rv += "\n" + string.Join("\n", lines.Skip(1).Select(line => line.Length > 0 ? indentation + line : line));
        }
        if (first) rv = indentation + rv;
        return rv.Length > Limits.MaxString ? throw new TemplateException("string exceeds size limit") : rv;
    }

    private static object? Join(Evaluator ev, object? v, Args a)
    {
        var sep = a.Str(0, "d") ?? "";
        var items = Materialize(ev, v);
        var attribute = a.Get(1, "attribute");
        var sb = new StringBuilder();
        for (var i = 0; i < items.Count; i++)
        {
            if (i > 0) sb.Append(sep);
            sb.Append(Py.Str(attribute is null ? items[i] : GetPath(items[i], attribute)));
            if (sb.Length > Limits.MaxString) throw new TemplateException("string exceeds size limit");
        }
        return sb.ToString();
    }

    /// <summary>Looks up a dotted attribute path such as "function.name" (numeric parts index lists).</summary>
    private static object? GetPath(object? item, object? attribute)
    {
        if (attribute is long or bool) return Py.GetItem(item, attribute);
        foreach (var part in Py.Str(attribute).Split('.'))
            item = Py.GetItem(item, long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : part);
        return item;
    }

    private static object? Map(Evaluator ev, object? v, Args a)
    {
        var items = Materialize(ev, v);
        if (a.Keywords.Any(k => k.Key == "attribute"))
        {
            var attribute = a.Get(99, "attribute");
            var hasDefault = a.Keywords.Any(k => k.Key == "default");
            var fallback = a.Get(99, "default");
            return Py.Generator(items.Select(x =>
            {
                var r = GetPath(x, attribute);
                return hasDefault && r is Undefined ? fallback : r;
            }).ToList());
        }
        if (a.Positional.Count == 0) return Py.Generator(items);
        var filter = Py.Str(a.Positional[0]);
        var rest = new Args(filter, a.Positional.Skip(1).ToList(), a.Keywords);
        return Py.Generator(items.Select(x => Apply(ev, filter, x, rest)).ToList());
    }

    private static object? Select(Evaluator ev, object? v, Args a, bool byAttribute, bool keep)
    {
        // Like Jinja, a falsy input (None, empty) selects nothing rather than failing.
        if (!Py.Truthy(v)) return Py.Generator([]);
        var items = Materialize(ev, v);
        var offset = byAttribute ? 1 : 0;
        object? attribute = byAttribute ? a.Required(0, "attribute") : null;
        Func<object?, bool> test;
        if (a.Positional.Count > offset)
        {
            var name = Py.Str(a.Positional[offset]);
            var testArgs = new Args(name, a.Positional.Skip(offset + 1).ToList(), Args.NoKeywords);
            test = x => Py.Truthy(Tests.Apply(ev, name, x, testArgs));
        }
        else
        {
            test = Py.Truthy;
        }
        return Py.Generator(items.Where(x => test(byAttribute ? GetPath(x, attribute) : x) == keep).ToList());
    }

    /// <summary>The sort key: lower-cased strings unless case-sensitive, optionally of an attribute.</summary>
    private static Func<object?, object?> KeyFunc(bool caseSensitive, object? attribute) => x =>
    {
        var k = attribute is null ? x : GetPath(x, attribute);
        return !caseSensitive && k is string s ? s.ToLowerInvariant() : k;
    };

    private static readonly Comparer<object?> PyComparer = Comparer<object?>.Create((x, y) => Py.Compare(x, y));

    private static object? Sort(Evaluator ev, object? v, Args a)
    {
        var items = Materialize(ev, v);
        var key = KeyFunc(a.Bool(1, "case_sensitive", false), a.Get(2, "attribute"));
        var sorted = items.OrderBy(key, PyComparer).ToList();
        if (a.Bool(0, "reverse", false))
        {
            // Python's reverse sort is still stable: equal items keep their order.
            sorted = items.OrderByDescending(key, PyComparer).ToList();
        }
        return sorted;
    }

    private static object? DictSort(Evaluator ev, object? v, Args a)
    {
        if (v is not PyDict d) throw Bad("dictsort", v);
        ev.Limits.Step(d.Count);
        var caseSensitive = a.Bool(0, "case_sensitive", false);
        var by = a.Str(1, "by") ?? "key";
        var pos = by switch
        {
            "key" => 0,
            "value" => 1,
            _ => throw new TemplateException("You can only sort by either \"key\" or \"value\""),
        };
        var pairs = d.Select(kv => (object?)new PyTuple([PyDict.Unkey(kv.Key), kv.Value])).ToList();
        Func<object?, object?> key = p =>
        {
            var k = ((PyTuple)p!).Items[pos];
            return !caseSensitive && k is string s ? s.ToLowerInvariant() : k;
        };
        return a.Bool(2, "reverse", false) ? pairs.OrderByDescending(key, PyComparer).ToList() : pairs.OrderBy(key, PyComparer).ToList();
    }

    private static object? Unique(Evaluator ev, object? v, Args a)
    {
        var key = KeyFunc(a.Bool(0, "case_sensitive", false), a.Get(1, "attribute"));
        var seen = new List<object?>();
        var result = new List<object?>();
        foreach (var item in Materialize(ev, v))
        {
            var k = key(item);
            if (seen.Any(s => Py.Eq(s, k))) continue;
            ev.Limits.Step(seen.Count);
            seen.Add(k);
            result.Add(item);
        }
        return Py.Generator(result);
    }

    private static object? MinMax(Evaluator ev, object? v, Args a, bool max)
    {
        var items = Materialize(ev, v);
        if (items.Count == 0) return new Undefined($"No aggregated item, sequence was empty.");
        var key = KeyFunc(a.Bool(0, "case_sensitive", false), a.Get(1, "attribute"));
        var best = items[0];
        foreach (var item in items.Skip(1))
        {
            var c = Py.Compare(key(item), key(best));
            if (max ? c > 0 : c < 0) best = item;
        }
        return best;
    }

    private static object? Sum(Evaluator ev, object? v, Args a)
    {
        var attribute = a.Get(0, "attribute");
        var total = a.Get(1, "start", 0L);
        foreach (var item in Materialize(ev, v))
            total = Py.Binary("+", total, attribute is null ? item : GetPath(item, attribute), ev.Limits);
        return total;
    }

    private static object? Batch(Evaluator ev, object? v, Args a)
    {
        var size = a.Int(0, "linecount", 0);
        if (size <= 0) throw new TemplateException("batch size must be positive");
        var fill = a.Has(1, "fill_with") ? a.Get(1, "fill_with") : Undefined.Named("fill_with");
        var result = new List<object?>();
        List<object?>? current = null;
        foreach (var item in Materialize(ev, v))
        {
            if (current is null || current.Count == size)
            {
                current = [];
                result.Add(current);
            }
            current.Add(item);
        }
        if (current is not null && fill is not Undefined)
            while (current.Count < size) current.Add(fill);
        return Py.Generator(result);
    }

    private static object? Round(object? v, Args a)
    {
        var precision = (int)Math.Clamp(a.Int(0, "precision", 0), -15, 15);
        var method = a.Str(1, "method") ?? "common";
        if (v is Undefined u) throw u.Fail();
        var x = Py.ToFloat(v);
        var scale = Math.Pow(10, precision);
        return method switch
        {
            "common" when v is long or bool => (object)Py.ToInt(v),
            "common" => precision >= 0
                ? Math.Round(x, precision, MidpointRounding.ToEven)
                : Math.Round(x * scale, MidpointRounding.ToEven) / scale,
            "ceil" => Math.Ceiling(x * scale) / scale,
            "floor" => Math.Floor(x * scale) / scale,
            _ => throw new TemplateException("method must be 'common', 'ceil' or 'floor'"),
        };
    }

    [GeneratedRegex(@"\w+")]
    private static partial Regex WordRegex();

    [GeneratedRegex(@"([-\s({\[<]+)")]
    private static partial Regex WordBeginningRegex();
}
