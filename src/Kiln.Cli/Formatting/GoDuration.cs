using System.Text;

namespace Kiln.Cli.Formatting;

/// <summary>
/// Go's <c>time.ParseDuration</c> and <c>Duration.String</c>, on int64 nanoseconds like Go, so that
/// kilnctl accepts and prints durations exactly as firectl users know them ("1h30m", "1h0m0s").
/// </summary>
public static class GoDuration
{
    public const long Nanosecond = 1;
    public const long Microsecond = 1000 * Nanosecond;
    public const long Millisecond = 1000 * Microsecond;
    public const long Second = 1000 * Millisecond;
    public const long Minute = 60 * Second;
    public const long Hour = 60 * Minute;

    private const ulong Limit = 1UL << 63;

    private static ulong UnitNanos(string unit) => unit switch
    {
        "ns" => Nanosecond,
        "us" or "\u00b5s" or "\u03bcs" => Microsecond,
        "ms" => Millisecond,
        "s" => Second,
        "m" => Minute,
        "h" => Hour,
        _ => 0,
    };

    /// <summary>Parses like Go; on failure <paramref name="error"/> holds Go's own message.</summary>
    public static bool TryParse(string text, out long nanoseconds, out string? error)
    {
        nanoseconds = 0;
        error = null;
        var invalid = $"time: invalid duration {Quote(text)}";
        var s = text.AsSpan();
        var negative = false;
        if (s.Length > 0 && (s[0] == '-' || s[0] == '+'))
        {
            negative = s[0] == '-';
            s = s[1..];
        }
        if (s is "0")
            return true;
        if (s.IsEmpty)
        {
            error = invalid;
            return false;
        }

        ulong total = 0;
        while (!s.IsEmpty)
        {
            if (!(s[0] == '.' || char.IsAsciiDigit(s[0])))
            {
                error = invalid;
                return false;
            }
            var before = s.Length;
            if (!TryLeadingInt(ref s, out var whole))
            {
                error = invalid;
                return false;
            }
            var hasWhole = before != s.Length;

            ulong fraction = 0;
            double scale = 1;
            var hasFraction = false;
            if (!s.IsEmpty && s[0] == '.')
            {
                s = s[1..];
                before = s.Length;
                LeadingFraction(ref s, out fraction, out scale);
                hasFraction = before != s.Length;
            }
            if (!hasWhole && !hasFraction)
            {
                error = invalid;
                return false;
            }

            var i = 0;
            while (i < s.Length && s[i] != '.' && !char.IsAsciiDigit(s[i]))
                i++;
            if (i == 0)
            {
                error = $"time: missing unit in duration {Quote(text)}";
                return false;
            }
            var unitText = s[..i].ToString();
            s = s[i..];
            var unit = UnitNanos(unitText);
            if (unit == 0)
            {
                error = $"time: unknown unit {Quote(unitText)} in duration {Quote(text)}";
                return false;
            }
            if (whole > Limit / unit)
            {
                error = invalid;
                return false;
            }
            var value = whole * unit;
            if (fraction > 0)
            {
                // Go uses float64 here too: it is nanosecond-exact for fractions of an hour.
                value += (ulong)(fraction * (unit / scale));
                if (value > Limit)
                {
                    error = invalid;
                    return false;
                }
            }
            total += value;
            if (total > Limit)
            {
                error = invalid;
                return false;
            }
        }
        if (negative)
        {
            nanoseconds = unchecked(-(long)total);
            return true;
        }
        if (total > Limit - 1)
        {
            error = invalid;
            return false;
        }
        nanoseconds = (long)total;
        return true;
    }

    public static long Parse(string text) =>
        TryParse(text, out var ns, out var error) ? ns : throw new FormatException(error);

    private static bool TryLeadingInt(ref ReadOnlySpan<char> s, out ulong value)
    {
        value = 0;
        var i = 0;
        for (; i < s.Length && char.IsAsciiDigit(s[i]); i++)
        {
            if (value > Limit / 10)
                return false;
            value = value * 10 + (ulong)(s[i] - '0');
            if (value > Limit)
                return false;
        }
        s = s[i..];
        return true;
    }

    private static void LeadingFraction(ref ReadOnlySpan<char> s, out ulong value, out double scale)
    {
        value = 0;
        scale = 1;
        var overflow = false;
        var i = 0;
        for (; i < s.Length && char.IsAsciiDigit(s[i]); i++)
        {
            if (overflow)
                continue;
            if (value > (Limit - 1) / 10)
            {
                overflow = true;
                continue;
            }
            var next = value * 10 + (ulong)(s[i] - '0');
            if (next > Limit)
            {
                overflow = true;
                continue;
            }
            value = next;
            scale *= 10;
        }
        s = s[i..];
    }

    /// <summary>Formats like Go's <c>Duration.String</c>: "1h0m0s", "1m30s", "1.5s", "500ms", "0s".</summary>
    public static string Format(long nanoseconds)
    {
        var negative = nanoseconds < 0;
        var u = negative ? unchecked((ulong)-nanoseconds) : (ulong)nanoseconds;
        if (u == 0)
            return "0s";

        var sb = new StringBuilder();
        if (negative)
            sb.Append('-');
        if (u < Second)
        {
            // Below a second Go switches to the largest unit that keeps an integer part.
            var (precision, unit) = u switch
            {
                < Microsecond => (0, "ns"),
                < Millisecond => (3, "\u00b5s"),
                _ => (6, "ms"),
            };
            AppendWithFraction(sb, u, precision);
            sb.Append(unit);
            return sb.ToString();
        }

        var totalSeconds = u / Second;
        var nanos = u % Second;
        var hours = totalSeconds / 3600;
        var minutes = totalSeconds / 60 % 60;
        var seconds = totalSeconds % 60;
        if (hours > 0)
            sb.Append(hours).Append('h');
        if (hours > 0 || minutes > 0)
            sb.Append(minutes).Append('m');
        AppendWithFraction(sb, seconds * Second + nanos, 9);
        sb.Append('s');
        return sb.ToString();
    }

    // Writes value / 10^precision with trailing zeros (and a bare point) omitted.
    private static void AppendWithFraction(StringBuilder sb, ulong value, int precision)
    {
        ulong pow = 1;
        for (var i = 0; i < precision; i++)
            pow *= 10;
        sb.Append(value / pow);
        var fraction = value % pow;
        if (fraction == 0)
            return;
        var digits = fraction.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(precision, '0');
        sb.Append('.').Append(digits.TrimEnd('0'));
    }

    private static string Quote(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in s)
        {
            if (c is '"' or '\\')
                sb.Append('\\');
            sb.Append(c);
        }
        return sb.Append('"').ToString();
    }
}
