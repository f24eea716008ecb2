using System.Globalization;
using System.Text;

namespace Kiln.Templates;

/// <summary>The global functions a chat template sees: Jinja2's defaults plus transformers' raise_exception and strftime_now.</summary>
internal static class Globals
{
    public static Scope Create()
    {
        var scope = new Scope(null);
        scope.Set("raise_exception", new RaiseException());
        scope.Set("strftime_now", new BuiltinFunction("strftime_now", (ev, a) => StrFTime(ev.Now(), Py.Str(a.Required(0, "format")))));
        scope.Set("range", new BuiltinFunction("range", (ev, a) => Range(ev, a)));
        scope.Set("dict", new BuiltinFunction("dict", (_, a) => MakeDict(a)));
        scope.Set("namespace", new BuiltinFunction("namespace", (_, a) =>
        {
            var ns = new Namespace();
            foreach (var kv in MakeDict(a)) ns.Attributes[kv.Key] = kv.Value;
            return ns;
        }));
        return scope;
    }

    /// <summary>raise_exception(message): aborts rendering with exactly that message.</summary>
    private sealed class RaiseException : PyCallable
    {
        public override string Name => "raise_exception";

        public override object? Invoke(Evaluator ev, List<object?> args, List<KeyValuePair<string, object?>> kwargs, int line) =>
            throw new TemplateException(args.Count > 0 ? Py.Str(args[0]) : "raise_exception called") { Line = line };
    }

    private static PyDict MakeDict(Args a)
    {
        var d = new PyDict();
        foreach (var p in a.Positional)
        {
            if (p is PyDict src)
            {
                foreach (var kv in src) d[kv.Key] = kv.Value;
            }
            else
            {
                foreach (var pair in Py.Iterate(p))
                {
                    var kv = Py.ToList(pair is PyTuple t ? t.Items.ToList() : pair);
                    if (kv.Count != 2) throw new TemplateException("dictionary update sequence element has wrong length");
                    d.Set(kv[0], kv[1]);
                }
            }
        }
        foreach (var kv in a.Keywords) d.Set(kv.Key, kv.Value);
        return d;
    }

    private static List<object?> Range(Evaluator ev, Args a)
    {
        var p = a.Positional;
        if (p.Count is 0 or > 3) throw new TemplateException($"range expected 1 to 3 arguments, got {p.Count}");
        long start = 0, stop, step = 1;
        if (p.Count == 1)
        {
            stop = Py.ToInt(p[0]);
        }
        else
        {
            start = Py.ToInt(p[0]);
            stop = Py.ToInt(p[1]);
            if (p.Count == 3) step = Py.ToInt(p[2]);
        }
        if (step == 0) throw new TemplateException("range() arg 3 must not be zero");
        var count = step > 0 ? (stop - start + step - 1) / step : (start - stop - step - 1) / -step;
        if (count > Limits.MaxRange)
            throw new TemplateException($"range too big: the sandbox blocks ranges larger than {Limits.MaxRange}");
        var list = new List<object?>();
        for (var i = 0L; i < count; i++) list.Add(start + i * step);
        ev.Limits.Step(list.Count);
        return list;
    }

    private static readonly string[] Days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

    private static readonly string[] Months =
        ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

    /// <summary>C strftime in the C locale, with glibc's "%-d" style no-padding flag.</summary>
    public static string StrFTime(DateTime t, string format)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length)
            {
                sb.Append(format[i]);
                continue;
            }
            var c = format[++i];
            var pad = true;
            if (c == '-' && i + 1 < format.Length)
            {
                pad = false;
                c = format[++i];
            }
            string Num(int v, int width) => pad ? v.ToString(new string('0', width), CultureInfo.InvariantCulture) : v.ToString(CultureInfo.InvariantCulture);
            var hour12 = t.Hour % 12 == 0 ? 12 : t.Hour % 12;
            sb.Append(c switch
            {
                'a' => Days[(int)t.DayOfWeek][..3],
                'A' => Days[(int)t.DayOfWeek],
                'b' or 'h' => Months[t.Month - 1][..3],
                'B' => Months[t.Month - 1],
                'd' => Num(t.Day, 2),
                'e' => pad ? t.Day.ToString(CultureInfo.InvariantCulture).PadLeft(2) : t.Day.ToString(CultureInfo.InvariantCulture),
                'm' => Num(t.Month, 2),
                'y' => Num(t.Year % 100, 2),
                'Y' => t.Year.ToString(CultureInfo.InvariantCulture),
                'H' => Num(t.Hour, 2),
                'I' => Num(hour12, 2),
                'M' => Num(t.Minute, 2),
                'S' => Num(t.Second, 2),
                'f' => (t.Ticks % TimeSpan.TicksPerSecond / 10).ToString("000000", CultureInfo.InvariantCulture),
                'p' => t.Hour < 12 ? "AM" : "PM",
                'j' => Num(t.DayOfYear, 3),
                'w' => ((int)t.DayOfWeek).ToString(CultureInfo.InvariantCulture),
                'u' => (t.DayOfWeek == DayOfWeek.Sunday ? 7 : (int)t.DayOfWeek).ToString(CultureInfo.InvariantCulture),
                'D' => StrFTime(t, "%m/%d/%y"),
                'F' => StrFTime(t, "%Y-%m-%d"),
                'T' => StrFTime(t, "%H:%M:%S"),
                'R' => StrFTime(t, "%H:%M"),
                'c' => StrFTime(t, "%a %b %e %H:%M:%S %Y"),
                'x' => StrFTime(t, "%m/%d/%y"),
                'X' => StrFTime(t, "%H:%M:%S"),
                'z' or 'Z' => "",
                'n' => "\n",
                't' => "\t",
                '%' => "%",
                _ => "%" + c,
            });
        }
        return sb.ToString();
    }
}
