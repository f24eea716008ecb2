using System.Text;

namespace Kiln.Templates;

/// <summary>The Python methods templates may call on str, dict and list values. Methods that mutate are
/// refused, as in Jinja2's immutable sandbox that chat templates run in.</summary>
internal static class Methods
{
    private static readonly HashSet<string> UnsafeDict = ["clear", "pop", "popitem", "setdefault", "update"];
    private static readonly HashSet<string> UnsafeList = ["append", "clear", "extend", "insert", "pop", "remove", "reverse", "sort"];

    /// <summary>The bound method <paramref name="name"/> of <paramref name="obj"/>, or null if it has none.</summary>
    public static object? Find(object obj, string name)
    {
        switch (obj)
        {
            case string s:
                return StringMethod(s, name);
            case PyDict d:
                if (UnsafeDict.Contains(name)) return Unsafe(obj, name);
                return name switch
                {
                    "items" => Bind(name, _ => d.Select(kv => (object?)new PyTuple([PyDict.Unkey(kv.Key), kv.Value])).ToList()),
                    "keys" => Bind(name, _ => d.Keys.Select(PyDict.Unkey).ToList()),
                    "values" => Bind(name, _ => d.Values.ToList()),
                    "get" => Bind(name, a => d.TryGet(a.Required(0, "key"), out var v) ? v : a.Get(1, "default")),
                    "copy" => Bind(name, _ => Copy(d)),
                    _ => null,
                };
            case List<object?> or PyTuple:
                if (obj is List<object?> && UnsafeList.Contains(name)) return Unsafe(obj, name);
                var items = Py.ToList(obj is PyTuple t ? t.Items.ToList() : obj);
                return name switch
                {
                    "index" => Bind(name, a =>
                    {
                        var i = items.FindIndex(x => Py.Eq(x, a.Required(0, "value")));
                        return i >= 0 ? (long)i : throw new TemplateException("value is not in list");
                    }),
                    "count" => Bind(name, a => (long)items.Count(x => Py.Eq(x, a.Required(0, "value")))),
                    "copy" when obj is List<object?> => Bind(name, _ => items.ToList()),
                    _ => null,
                };
            default:
                return null;
        }
    }

    private static PyDict Copy(PyDict d)
    {
        var c = new PyDict();
        foreach (var kv in d) c[kv.Key] = kv.Value;
        return c;
    }

    private static Undefined Unsafe(object obj, string name) =>
        new($"access to attribute '{name}' of '{Py.TypeName(obj)}' object is unsafe");

    private static BuiltinFunction Bind(string name, Func<Args, object?> body) => new(name, (_, a) => body(a));

    private static object? StringMethod(string s, string name) => name switch
    {
        "strip" => Bind(name, a => PyStr.Strip(s, a.Str(0, "chars"), true, true)),
        "lstrip" => Bind(name, a => PyStr.Strip(s, a.Str(0, "chars"), true, false)),
        "rstrip" => Bind(name, a => PyStr.Strip(s, a.Str(0, "chars"), false, true)),
        "upper" => Bind(name, _ => s.ToUpperInvariant()),
        "lower" => Bind(name, _ => s.ToLowerInvariant()),
        "title" => Bind(name, _ => Title(s)),
        "capitalize" => Bind(name, _ => Capitalize(s)),
        "swapcase" => Bind(name, _ => string.Concat(s.Select(c => char.IsUpper(c) ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c)))),
        "startswith" => Bind(name, a => Affix(s, a.Required(0, "prefix"), s.StartsWith)),
        "endswith" => Bind(name, a => Affix(s, a.Required(0, "suffix"), s.EndsWith)),
        "split" => Bind(name, a => Split(s, a.Str(0, "sep"), a.Int(1, "maxsplit", -1))),
        "rsplit" => Bind(name, a => RSplit(s, a.Str(0, "sep"), a.Int(1, "maxsplit", -1))),
        "splitlines" => Bind(name, _ => PyStr.SplitLines(s).Cast<object?>().ToList()),
        "replace" => Bind(name, a => Replace(s, Py.Str(a.Required(0, "old")), Py.Str(a.Required(1, "new")), a.Int(2, "count", -1))),
        "find" => Bind(name, a => (long)s.IndexOf(Py.Str(a.Required(0, "sub")), StringComparison.Ordinal)),
        "rfind" => Bind(name, a => (long)s.LastIndexOf(Py.Str(a.Required(0, "sub")), StringComparison.Ordinal)),
        "index" => Bind(name, a =>
        {
            var i = s.IndexOf(Py.Str(a.Required(0, "sub")), StringComparison.Ordinal);
            return i >= 0 ? (long)i : throw new TemplateException("substring not found");
        }),
        "count" => Bind(name, a => (long)CountOf(s, Py.Str(a.Required(0, "sub")))),
        "join" => Bind(name, a => string.Join(s, Py.Iterate(a.Required(0, "iterable")).Select(x =>
            x as string ?? throw new TemplateException($"sequence item: expected str instance, {Py.TypeName(x)} found")))),
        "isdigit" => Bind(name, _ => s.Length > 0 && s.All(char.IsDigit)),
        "isnumeric" => Bind(name, _ => s.Length > 0 && s.All(char.IsNumber)),
        "isalpha" => Bind(name, _ => s.Length > 0 && s.All(char.IsLetter)),
        "isalnum" => Bind(name, _ => s.Length > 0 && s.All(char.IsLetterOrDigit)),
        "isspace" => Bind(name, _ => s.Length > 0 && s.All(PyStr.IsSpace)),
        "isupper" => Bind(name, _ => s.Any(char.IsLetter) && !s.Any(char.IsLower)),
        "islower" => Bind(name, _ => s.Any(char.IsLetter) && !s.Any(char.IsUpper)),
        "zfill" => Bind(name, a => ZFill(s, (int)Math.Min(a.Int(0, "width", 0), Limits.MaxString))),
        "center" => Bind(name, a => Filters.Center(s, (int)Math.Min(a.Int(0, "width", 0), Limits.MaxString), a.Str(1, "fillchar") ?? " ")),
        "ljust" => Bind(name, a => s.PadRight((int)Math.Clamp(a.Int(0, "width", 0), 0, Limits.MaxString), (a.Str(1, "fillchar") ?? " ")[0])),
        "rjust" => Bind(name, a => s.PadLeft((int)Math.Clamp(a.Int(0, "width", 0), 0, Limits.MaxString), (a.Str(1, "fillchar") ?? " ")[0])),
        "format" => Bind(name, a => Format(s, a)),
        _ => null,
    };

    private static bool Affix(string s, object? arg, Func<string, StringComparison, bool> test) => arg switch
    {
        string p => test(p, StringComparison.Ordinal),
        PyTuple t => t.Items.Any(x => x is string p && test(p, StringComparison.Ordinal)),
        _ => throw new TemplateException($"startswith/endswith first arg must be str or a tuple of str, not {Py.TypeName(arg)}"),
    };

    /// <summary>Python's str.title(): a letter after a non-letter is upper-cased, others lower-cased.</summary>
    public static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        var prevCased = false;
        foreach (var c in s)
        {
            sb.Append(prevCased ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c));
            prevCased = char.IsLetter(c);
        }
        return sb.ToString();
    }

    public static string Capitalize(string s) =>
        s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();

    private static List<object?> Split(string s, string? sep, long maxSplit)
    {
        var result = new List<object?>();
        if (sep is null)
        {
            // Whitespace split drops empty pieces.
            var i = 0;
            while (true)
            {
                while (i < s.Length && PyStr.IsSpace(s[i])) i++;
                if (i >= s.Length) break;
                if (maxSplit >= 0 && result.Count == maxSplit)
                {
                    result.Add(PyStr.RStrip(s[i..]));
                    break;
                }
                var start = i;
                while (i < s.Length && !PyStr.IsSpace(s[i])) i++;
                result.Add(s[start..i]);
            }
            return result;
        }
        if (sep.Length == 0) throw new TemplateException("empty separator");
        var pos = 0;
        while (maxSplit < 0 || result.Count < maxSplit)
        {
            var idx = s.IndexOf(sep, pos, StringComparison.Ordinal);
            if (idx < 0) break;
            result.Add(s[pos..idx]);
            pos = idx + sep.Length;
        }
        result.Add(s[pos..]);
        return result;
    }

    private static List<object?> RSplit(string s, string? sep, long maxSplit)
    {
        if (maxSplit < 0 || sep is null) return Split(s, sep, maxSplit);
        if (sep.Length == 0) throw new TemplateException("empty separator");
        var result = new List<object?>();
        var end = s.Length;
        while (result.Count < maxSplit)
        {
            var idx = end == 0 ? -1 : s.LastIndexOf(sep, end - 1, StringComparison.Ordinal);
            if (idx < 0 || idx + sep.Length > end) break;
            result.Insert(0, s[(idx + sep.Length)..end]);
            end = idx;
        }
        result.Insert(0, s[..end]);
        return result;
    }

    public static string Replace(string s, string old, string replacement, long count)
    {
        if (count < 0 && old.Length > 0)
        {
            var estimate = (long)s.Length + (long)CountOf(s, old) * Math.Max(0, replacement.Length - old.Length);
            return estimate > Limits.MaxString ? throw new TemplateException("string exceeds size limit") : s.Replace(old, replacement, StringComparison.Ordinal);
        }
        var sb = new StringBuilder();
        var pos = 0;
        var done = 0L;
        if (old.Length == 0)
        {
            // Python inserts the replacement between every character, and at both ends.
            for (var i = 0; i <= s.Length; i++)
            {
                if (count < 0 || done < count)
                {
                    sb.Append(replacement);
                    done++;
                }
                if (i < s.Length) sb.Append(s[i]);
                if (sb.Length > Limits.MaxString) throw new TemplateException("string exceeds size limit");
            }
            return sb.ToString();
        }
        while (done < count)
        {
            var idx = s.IndexOf(old, pos, StringComparison.Ordinal);
            if (idx < 0) break;
            sb.Append(s, pos, idx - pos).Append(replacement);
            pos = idx + old.Length;
            done++;
        }
        return sb.Append(s, pos, s.Length - pos).ToString();
    }

    private static int CountOf(string s, string sub)
    {
        if (sub.Length == 0) return s.Length + 1;
        var n = 0;
        for (var i = s.IndexOf(sub, StringComparison.Ordinal); i >= 0; i = s.IndexOf(sub, i + sub.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    private static string ZFill(string s, int width)
    {
        if (s.Length >= width) return s;
        var sign = s.Length > 0 && s[0] is '+' or '-' ? s[..1] : "";
        return sign + new string('0', width - s.Length) + s[sign.Length..];
    }

    /// <summary>str.format with automatic, numbered and named fields; format specs are not supported.</summary>
    private static string Format(string s, Args a)
    {
        var sb = new StringBuilder();
        var auto = 0;
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c == '{' && i + 1 < s.Length && s[i + 1] == '{') { sb.Append('{'); i++; continue; }
            if (c == '}' && i + 1 < s.Length && s[i + 1] == '}') { sb.Append('}'); i++; continue; }
            if (c != '{') { sb.Append(c); continue; }
            var end = s.IndexOf('}', i);
            if (end < 0) throw new TemplateException("single '{' encountered in format string");
            var field = s[(i + 1)..end];
            if (field.Contains(':') || field.Contains('!')) throw new TemplateException("format specs are not supported");
            object? value;
            if (field.Length == 0) value = auto < a.Positional.Count ? a.Positional[auto++] : throw new TemplateException("format index out of range");
            else if (int.TryParse(field, out var idx)) value = idx < a.Positional.Count ? a.Positional[idx] : throw new TemplateException("format index out of range");
            else value = a.Keywords.FirstOrDefault(k => k.Key == field) is { Key: not null } kv ? kv.Value : throw new TemplateException($"format key '{field}' missing");
            sb.Append(Py.Str(value));
            if (sb.Length > Limits.MaxString) throw new TemplateException("string exceeds size limit");
            i = end;
        }
        return sb.ToString();
    }
}
