using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Kiln.Templates;

/// <summary>A Python slice value, the index of `x[a:b:c]`.</summary>
internal sealed record PySlice(object? Start, object? Stop, object? Step);

/// <summary>Python value semantics for the runtime values: truthiness, str(), equality, ordering, arithmetic.</summary>
internal static class Py
{
    public static string TypeName(object? v) => v switch
    {
        null => "NoneType",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        List<object?> => "list",
        PyTuple => "tuple",
        PyDict => "dict",
        Namespace => "Namespace",
        Undefined => "Undefined",
        LoopInfo => "LoopContext",
        PyCallable => "function",
        PyIterator it => it.Kind,
        _ => v.GetType().Name,
    };

    public static bool Truthy(object? v) => v switch
    {
        null or Undefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        List<object?> l => l.Count > 0,
        PyTuple t => t.Items.Count > 0,
        PyDict d => d.Count > 0,
        _ => true,
    };

    public static bool IsNumber(object? v) => v is bool or long or double;

    /// <summary>Python's str().</summary>
    public static string Str(object? v) => v switch
    {
        null => "None",
        string s => s,
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => PyStr.FloatRepr(d),
        Undefined => "",
        _ => Repr(v),
    };

    /// <summary>Python's repr(), used inside printed containers.</summary>
    public static string Repr(object? v)
    {
        switch (v)
        {
            case string s: return PyStr.Repr(s);
            case List<object?> l: return "[" + string.Join(", ", l.Select(Repr)) + "]";
            case PyTuple t:
                return t.Items.Count == 1 ? "(" + Repr(t.Items[0]) + ",)" : "(" + string.Join(", ", t.Items.Select(Repr)) + ")";
            case PyDict d:
                return "{" + string.Join(", ", d.Select(kv => Repr(PyDict.Unkey(kv.Key)) + ": " + Repr(kv.Value))) + "}";
            case Namespace n:
                return "<Namespace " + Repr(n.Attributes) + ">";
            case PyCallable c: return $"<function {c.Name}>";
            case LoopInfo: return "<LoopContext>";
            case PyIterator it: return $"<{it.Kind} object>";
            case Undefined: return "Undefined";
            default: return Str(v);
        }
    }

    public static TemplateException TypeError(string message) => new(message);

    // ---- conversions -------------------------------------------------------------------------

    /// <summary>Converts a caller-supplied CLR value (including JsonElement) to the runtime model.</summary>
    public static object? FromClr(object? v, int depth = 0)
    {
        if (depth > 256) throw new TemplateException("input value nested too deeply");
        switch (v)
        {
            case null: return null;
            case string or bool or long or double or Undefined or PyTuple or PyDict or Namespace or PyCallable: return v;
            case int or short or sbyte or byte or ushort or uint: return Convert.ToInt64(v, CultureInfo.InvariantCulture);
            case ulong u: return u <= long.MaxValue ? (long)u : (double)u;
            case float f: return (double)f;
            case decimal m: return (double)m;
            case char c: return c.ToString();
            case JsonElement je: return FromJson(je, depth);
            case JsonDocument jd: return FromJson(jd.RootElement, depth);
            case IReadOnlyDictionary<string, object?> rd:
                {
                    var d = new PyDict();
                    foreach (var kv in rd) d.Set(kv.Key, FromClr(kv.Value, depth + 1));
                    return d;
                }
            case IDictionary dict:
                {
                    var d = new PyDict();
                    foreach (DictionaryEntry kv in dict) d.Set(FromClr(kv.Key, depth + 1), FromClr(kv.Value, depth + 1));
                    return d;
                }
            case IEnumerable e:
                {
                    var list = new List<object?>();
                    foreach (var item in e) list.Add(FromClr(item, depth + 1));
                    return list;
                }
            default: return v.ToString();
        }
    }

    public static object? FromJson(JsonElement e, int depth = 0)
    {
        if (depth > 256) throw new TemplateException("input value nested too deeply");
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                var d = new PyDict();
                foreach (var p in e.EnumerateObject()) d.Set(p.Name, FromJson(p.Value, depth + 1));
                return d;
            case JsonValueKind.Array:
                return e.EnumerateArray().Select(x => FromJson(x, depth + 1)).ToList();
            case JsonValueKind.String: return e.GetString();
            case JsonValueKind.Number:
                var raw = e.GetRawText();
                // Python's json keeps "1" an int and "1.0" a float.
                if (raw.IndexOfAny(['.', 'e', 'E']) < 0 && e.TryGetInt64(out var l)) return l;
                return e.GetDouble();
            case JsonValueKind.True: return true;
            case JsonValueKind.False: return false;
            default: return null;
        }
    }

    public static long ToInt(object? v) => v switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        double d when d == Math.Floor(d) && Math.Abs(d) < 9.2e18 => (long)d,
        Undefined u => throw u.Fail(),
        _ => throw TypeError($"'{TypeName(v)}' object cannot be interpreted as an integer"),
    };

    public static double ToFloat(object? v) => v switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        double d => d,
        Undefined u => throw u.Fail(),
        _ => throw TypeError($"must be real number, not {TypeName(v)}"),
    };

    // ---- equality and ordering ---------------------------------------------------------------

    public static bool Eq(object? a, object? b)
    {
        if (ReferenceEquals(a, b)) return true;
        if (a is Undefined || b is Undefined) return a is Undefined && b is Undefined;
        if (IsNumber(a) && IsNumber(b))
        {
            if (a is double || b is double) return ToFloat(a) == ToFloat(b);
            return ToInt(a) == ToInt(b);
        }
        switch (a)
        {
            case null: return b is null;
            case string s: return b is string s2 && string.Equals(s, s2, StringComparison.Ordinal);
            case List<object?> l: return b is List<object?> m && SeqEq(l, m);
            case PyTuple t: return b is PyTuple u && SeqEq(t.Items, u.Items);
            case PyDict d:
                if (b is not PyDict e || d.Count != e.Count) return false;
                foreach (var kv in d)
                    if (!e.TryGetValue(kv.Key, out var other) || !Eq(kv.Value, other)) return false;
                return true;
            default: return false;
        }
    }

    private static bool SeqEq(IReadOnlyList<object?> a, IReadOnlyList<object?> b)
    {
        if (a.Count != b.Count) return false;
        for (var i = 0; i < a.Count; i++) if (!Eq(a[i], b[i])) return false;
        return true;
    }

    public static int Compare(object? a, object? b, string op = "<")
    {
        if (a is Undefined ua) throw ua.Fail();
        if (b is Undefined ub) throw ub.Fail();
        if (IsNumber(a) && IsNumber(b))
        {
            if (a is double || b is double) return ToFloat(a).CompareTo(ToFloat(b));
            return ToInt(a).CompareTo(ToInt(b));
        }
        if (a is string s && b is string t) return Math.Sign(string.CompareOrdinal(s, t));
        IReadOnlyList<object?>? la = a switch { List<object?> l => l, PyTuple tu => tu.Items, _ => null };
        IReadOnlyList<object?>? lb = b switch { List<object?> l => l, PyTuple tu => tu.Items, _ => null };
        if (la is not null && lb is not null && a!.GetType() == b!.GetType())
        {
            for (var i = 0; i < Math.Min(la.Count, lb.Count); i++)
                if (!Eq(la[i], lb[i])) return Compare(la[i], lb[i], op);
            return la.Count.CompareTo(lb.Count);
        }
        throw TypeError($"'{op}' not supported between instances of '{TypeName(a)}' and '{TypeName(b)}'");
    }

    public static bool Contains(object? container, object? item)
    {
        switch (container)
        {
            case string s:
                if (item is not string sub) throw TypeError($"'in <string>' requires string as left operand, not {TypeName(item)}");
                return s.Contains(sub, StringComparison.Ordinal);
            case List<object?> l: return l.Any(x => Eq(x, item));
            case PyTuple t: return t.Items.Any(x => Eq(x, item));
            case PyDict d:
                if (item is List<object?> or PyDict) throw TypeError($"unhashable type: '{TypeName(item)}'");
                return d.TryGet(item, out _);
            case Undefined: return false;
            case PyIterator it: return it.Consume().Any(x => Eq(x, item));
            default: throw TypeError($"argument of type '{TypeName(container)}' is not iterable");
        }
    }

    // ---- containers --------------------------------------------------------------------------

    public static IEnumerable<object?> Iterate(object? v) => v switch
    {
        List<object?> l => l,
        PyTuple t => t.Items,
        PyDict d => d.Keys.Select(PyDict.Unkey),
        string s => PyStr.HasSurrogates(s) ? PyStr.CodePoints(s) : s.Select(c => (object?)c.ToString()),
        Undefined => [],
        PyIterator it => it.Consume(),
        _ => throw TypeError($"'{TypeName(v)}' object is not iterable"),
    };

    public static List<object?> ToList(object? v) => v is List<object?> l ? l : [.. Iterate(v)];

    public static PyIterator Generator(IReadOnlyList<object?> items) => new("generator", items);

    public static long Length(object? v) => v switch
    {
        string s => PyStr.Length(s),
        List<object?> l => l.Count,
        PyTuple t => t.Items.Count,
        PyDict d => d.Count,
        Undefined => 0,
        _ => throw TypeError($"object of type '{TypeName(v)}' has no len()"),
    };

    /// <summary>Jinja's attribute lookup: the Python attribute first, then the item of that name.</summary>
    public static object? GetAttr(object? obj, string name)
    {
        switch (obj)
        {
            case Undefined u: throw u.Fail();
            case Namespace ns: return ns.Attributes.TryGet(name, out var v) ? v : Undefined.Attribute(obj, name);
            case LoopInfo loop: return loop.Get(name);
            case PyDict d:
                if (Methods.Find(d, name) is { } dm) return dm;
                return d.TryGet(name, out var dv) ? dv : Undefined.Attribute(obj, name);
            case string or List<object?> or PyTuple:
                return Methods.Find(obj, name) ?? Undefined.Attribute(obj, name);
            default: return Undefined.Attribute(obj, name);
        }
    }

    /// <summary>Jinja's subscript: the item first, then (for string keys) the attribute.</summary>
    public static object? GetItem(object? obj, object? key)
    {
        if (obj is Undefined u) throw u.Fail();
        switch (obj)
        {
            case PyDict d:
                if (key is not (List<object?> or PyDict) && d.TryGet(key, out var v)) return v;
                break;
            case List<object?> or PyTuple or string when key is PySlice slice:
                return Slice(obj, slice);
            case List<object?> l when key is long or bool:
                return Index(l, ToInt(key), obj);
            case PyTuple t when key is long or bool:
                return Index(t.Items, ToInt(key), obj);
            case string s when key is long or bool:
                return PyStr.HasSurrogates(s) ? Index(PyStr.CodePoints(s), ToInt(key), obj) : Index(s.Select(c => c.ToString()).ToArray(), ToInt(key), obj);
        }
        return key is string name && obj is not null ? GetAttr(obj, name) : Undefined.Attribute(obj, key);
    }

    private static object? Index<T>(IReadOnlyList<T> items, long i, object? owner)
    {
        if (i < 0) i += items.Count;
        return i >= 0 && i < items.Count ? items[(int)i] : Undefined.Attribute(owner, i);
    }

    public static object? Slice(object? obj, PySlice slice)
    {
        var step = slice.Step is null ? 1 : ToInt(slice.Step);
        if (step == 0) throw new TemplateException("slice step cannot be zero");
        IReadOnlyList<object?> items = obj switch
        {
            List<object?> l => l,
            PyTuple t => t.Items,
            string s => PyStr.CodePoints(s),
            _ => throw TypeError($"'{TypeName(obj)}' object is not subscriptable"),
        };
        long n = items.Count;
        long lower = step < 0 ? -1 : 0, upper = step < 0 ? n - 1 : n;
        long Bound(object? x, long dflt)
        {
            if (x is null) return dflt;
            var i = ToInt(x);
            return i < 0 ? Math.Max(i + n, lower) : Math.Min(i, upper);
        }
        var start = Bound(slice.Start, step < 0 ? upper : lower);
        var stop = Bound(slice.Stop, step < 0 ? lower : upper);
        var result = new List<object?>();
        for (var i = start; step > 0 ? i < stop : i > stop; i += step) result.Add(items[(int)i]);
        return obj switch
        {
            string => string.Concat(result.Cast<string>()),
            PyTuple => new PyTuple(result),
            _ => result,
        };
    }

    // ---- arithmetic --------------------------------------------------------------------------

    public static object? Binary(string op, object? a, object? b, Limits limits)
    {
        if (a is Undefined ua) throw ua.Fail();
        if (b is Undefined ub) throw ub.Fail();
        if (IsNumber(a) && IsNumber(b)) return Arith(op, a, b);
        switch (op)
        {
            case "+" when a is string s && b is string t: return limits.CheckString(s.Length + (long)t.Length, () => Markup.Concat(s, t));
            case "+" when a is List<object?> l && b is List<object?> m: return limits.CheckList(l.Count + (long)m.Count, () => new List<object?>(l.Concat(m)));
            case "+" when a is PyTuple t1 && b is PyTuple t2: return new PyTuple([.. t1.Items, .. t2.Items]);
            case "*" when a is string s && b is long or bool: return Repeat(s, ToInt(b), limits);
            case "*" when b is string s && a is long or bool: return Repeat(s, ToInt(a), limits);
            case "*" when a is List<object?> l && b is long or bool: return RepeatList(l, ToInt(b), limits);
            case "*" when b is List<object?> l && a is long or bool: return RepeatList(l, ToInt(a), limits);
        }
        throw TypeError($"unsupported operand type(s) for {op}: '{TypeName(a)}' and '{TypeName(b)}'");
    }

    private static string Repeat(string s, long n, Limits limits) =>
        n <= 0 ? "" : limits.CheckString(s.Length * n, () => new StringBuilder().Insert(0, s, (int)n).ToString());

    private static List<object?> RepeatList(List<object?> l, long n, Limits limits) =>
        n <= 0 ? [] : limits.CheckList(l.Count * n, () => Enumerable.Range(0, (int)n).SelectMany(_ => l).ToList());

    private static object? Arith(string op, object? a, object? b)
    {
        if (op == "/")
        {
            var den = ToFloat(b);
            if (den == 0) throw new TemplateException("division by zero");
            return ToFloat(a) / den;
        }
        if (a is double || b is double)
        {
            double x = ToFloat(a), y = ToFloat(b);
            switch (op)
            {
                case "+": return x + y;
                case "-": return x - y;
                case "*": return x * y;
                case "**": return Math.Pow(x, y);
                case "//":
                    if (y == 0) throw new TemplateException("float floor division by zero");
                    return Math.Floor(x / y);
                case "%":
                    if (y == 0) throw new TemplateException("float modulo");
                    var r = x % y;
                    return r != 0 && (r < 0) != (y < 0) ? r + y : r;
            }
        }
        else
        {
            long x = ToInt(a), y = ToInt(b);
            try
            {
                checked
                {
                    switch (op)
                    {
                        case "+": return x + y;
                        case "-": return x - y;
                        case "*": return x * y;
                        case "**":
                            if (y < 0) return Math.Pow(x, y);
                            return IntPow(x, y);
                        case "//":
                            if (y == 0) throw new TemplateException("integer division or modulo by zero");
                            var q = x / y;
                            return (x % y != 0) && ((x < 0) != (y < 0)) ? q - 1 : q;
                        case "%":
                            if (y == 0) throw new TemplateException("integer division or modulo by zero");
                            var m = x % y;
                            return m != 0 && (m < 0) != (y < 0) ? m + y : m;
                    }
                }
            }
            catch (OverflowException)
            {
                throw new TemplateException("integer overflow");
            }
        }
        throw TypeError($"unsupported operator {op}");
    }

    private static long IntPow(long x, long y)
    {
        // Square-and-multiply keeps huge exponents of 0, 1 and -1 fast; anything else overflows quickly.
        long result = 1;
        checked
        {
            while (y > 0)
            {
                if ((y & 1) == 1) result *= x;
                y >>= 1;
                if (y > 0) x *= x;
            }
        }
        return result;
    }

    public static object? Negate(object? v) => v switch
    {
        // Arms are boxed explicitly: a long/double switch would otherwise widen every result to double.
        long l => l == long.MinValue ? throw new TemplateException("integer overflow") : (object)(-l),
        bool b => (object)(b ? -1L : 0L),
        double d => (object)(-d),
        Undefined u => throw u.Fail(),
        _ => throw TypeError($"bad operand type for unary -: '{TypeName(v)}'"),
    };
}
