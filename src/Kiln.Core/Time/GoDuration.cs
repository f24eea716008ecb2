using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Kiln.Core.Time;

/// <summary>
/// Go's <c>time.ParseDuration</c> and <c>Duration.String</c>, reproduced exactly, because firectl
/// flags such as <c>--scale-to-zero-window 1h</c> are specified in that syntax.
/// </summary>
/// <remarks>
/// A Go duration is a signed count of nanoseconds that fits in 64 bits (about ±292 years).
/// <see cref="TimeSpan"/> counts 100 ns ticks, so conversions to it truncate toward zero below
/// 100 ns; use the nanosecond overloads when that matters. Error messages are Go's, byte for byte
/// (non-ASCII and control characters are shown as <c>\x</c> escapes of their UTF-8 bytes).
/// </remarks>
public static class GoDuration
{
    private const ulong Nanosecond = 1;
    private const ulong Microsecond = 1000 * Nanosecond;
    private const ulong Millisecond = 1000 * Microsecond;
    private const ulong Second = 1000 * Millisecond;
    private const ulong Minute = 60 * Second;
    private const ulong Hour = 60 * Minute;
    private const ulong Limit = 1UL << 63;

    /// <summary>Parses like Go; throws <see cref="FormatException"/> with Go's message.</summary>
    public static TimeSpan Parse(string s) => FromNanoseconds(ParseNanoseconds(s));

    /// <summary>Parses like Go; on failure <paramref name="error"/> holds Go's message.</summary>
    public static bool TryParse(string? s, out TimeSpan value, [NotNullWhen(false)] out string? error)
    {
        var ok = TryParseNanoseconds(s ?? "", out var ns, out error);
        value = ok ? FromNanoseconds(ns) : TimeSpan.Zero;
        return ok;
    }

    /// <summary>
    /// Parses like Go and also rejects negative durations, as every Kiln duration flag does:
    /// <c>invalid duration "-1s": must not be negative</c>.
    /// </summary>
    public static bool TryParseNonNegative(string? s, out TimeSpan value, [NotNullWhen(false)] out string? error)
    {
        value = TimeSpan.Zero;
        if (!TryParseNanoseconds(s ?? "", out var ns, out error))
        {
            return false;
        }
        value = FromNanoseconds(ns);
        if (ns < 0)
        {
            error = $"invalid duration {Quote(s!)}: must not be negative";
            value = TimeSpan.Zero;
            return false;
        }
        return true;
    }

    /// <summary>Parses like Go to nanoseconds; throws <see cref="FormatException"/> with Go's message.</summary>
    public static long ParseNanoseconds(string s) =>
        TryParseNanoseconds(s, out var ns, out var error) ? ns : throw new FormatException(error);

    /// <summary>Parses <c>[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+</c> exactly as Go does.</summary>
    public static bool TryParseNanoseconds(string s, out long nanoseconds, [NotNullWhen(false)] out string? error)
    {
        nanoseconds = 0;
        var orig = s;
        var invalid = $"time: invalid duration {Quote(orig)}";
        ulong d = 0;
        var neg = false;
        var i = 0;
        if (s.Length > 0 && s[0] is '-' or '+')
        {
            neg = s[0] == '-';
            i = 1;
        }
        if (s.AsSpan(i) is "0")
        {
            error = null;
            return true;
        }
        if (i == s.Length)
        {
            error = invalid;
            return false;
        }
        while (i < s.Length)
        {
            if (!(s[i] == '.' || IsDigit(s[i])))
            {
                error = invalid;
                return false;
            }

            // Integer part [0-9]*.
            var start = i;
            ulong v = 0;
            for (; i < s.Length && IsDigit(s[i]); i++)
            {
                if (v > Limit / 10)
                {
                    error = invalid;
                    return false;
                }
                v = v * 10 + (ulong)(s[i] - '0');
                if (v > Limit)
                {
                    error = invalid;
                    return false;
                }
            }
            var pre = i != start;

            // Fraction (\.[0-9]*)? keeps as many digits as fit and ignores the rest, like Go.
            ulong f = 0;
            double scale = 1;
            var post = false;
            if (i < s.Length && s[i] == '.')
            {
                i++;
                var fracStart = i;
                var overflow = false;
                for (; i < s.Length && IsDigit(s[i]); i++)
                {
                    if (overflow)
                    {
                        continue;
                    }
                    if (f > (Limit - 1) / 10)
                    {
                        overflow = true;
                        continue;
                    }
                    var y = f * 10 + (ulong)(s[i] - '0');
                    if (y > Limit)
                    {
                        overflow = true;
                        continue;
                    }
                    f = y;
                    scale *= 10;
                }
                post = i != fracStart;
            }
            if (!pre && !post)
            {
                error = invalid;
                return false;
            }

            // Unit: everything up to the next digit or dot.
            var unitStart = i;
            while (i < s.Length && !(s[i] == '.' || IsDigit(s[i])))
            {
                i++;
            }
            if (i == unitStart)
            {
                error = $"time: missing unit in duration {Quote(orig)}";
                return false;
            }
            var u = s[unitStart..i];
            var unit = UnitOf(u);
            if (unit == 0)
            {
                error = $"time: unknown unit {Quote(u)} in duration {Quote(orig)}";
                return false;
            }
            if (v > Limit / unit)
            {
                error = invalid;
                return false;
            }
            v *= unit;
            if (f > 0)
            {
                // Go computes the fraction in float64 and truncates; do the same for identical results.
                v += (ulong)(f * (unit / scale));
                if (v > Limit)
                {
                    error = invalid;
                    return false;
                }
            }
            d += v;
            if (d > Limit)
            {
                error = invalid;
                return false;
            }
        }
        if (neg)
        {
            nanoseconds = d == Limit ? long.MinValue : -(long)d;
            error = null;
            return true;
        }
        if (d > Limit - 1)
        {
            error = invalid;
            return false;
        }
        nanoseconds = (long)d;
        error = null;
        return true;
    }

    /// <summary>Formats like Go's <c>Duration.String</c>: "1h0m0s", "10m0s", "1.5s", "500ms", "0s".</summary>
    public static string Format(TimeSpan value) => Format((Int128)value.Ticks * 100);

    /// <summary>Formats a nanosecond count like Go's <c>Duration.String</c>.</summary>
    public static string FormatNanoseconds(long nanoseconds) => Format((Int128)nanoseconds);

    /// <summary>Converts nanoseconds to a <see cref="TimeSpan"/>, truncating below 100 ns.</summary>
    public static TimeSpan FromNanoseconds(long nanoseconds) => TimeSpan.FromTicks(nanoseconds / 100);

    private static string Format(Int128 ns)
    {
        var neg = ns < 0;
        var u = (UInt128)(neg ? -ns : ns);
        var sb = new StringBuilder(32);
        if (u < Second)
        {
            // Below a second Go switches to the largest unit that keeps an integer part: ns, µs or ms.
            if (u == 0)
            {
                return "0s";
            }
            int prec;
            string unit;
            if (u < Microsecond)
            {
                prec = 0;
                unit = "ns";
            }
            else if (u < Millisecond)
            {
                prec = 3;
                unit = "\u00b5s";
            }
            else
            {
                prec = 6;
                unit = "ms";
            }
            sb.Insert(0, unit);
            u = PrependFraction(sb, u, prec);
            sb.Insert(0, u.ToString());
        }
        else
        {
            sb.Insert(0, 's');
            u = PrependFraction(sb, u, 9);
            sb.Insert(0, (u % 60).ToString());
            u /= 60;
            if (u > 0)
            {
                sb.Insert(0, 'm');
                sb.Insert(0, (u % 60).ToString());
                u /= 60;
                if (u > 0)
                {
                    // Go stops at hours because days vary in length.
                    sb.Insert(0, 'h');
                    sb.Insert(0, u.ToString());
                }
            }
        }
        if (neg)
        {
            sb.Insert(0, '-');
        }
        return sb.ToString();
    }

    // Prepends ".ddd" for v / 10^prec without trailing zeros (nothing when the fraction is zero)
    // and returns the integer part.
    private static UInt128 PrependFraction(StringBuilder sb, UInt128 v, int prec)
    {
        Span<char> digits = stackalloc char[prec + 1];
        var w = digits.Length;
        var print = false;
        for (var i = 0; i < prec; i++)
        {
            var digit = (int)(v % 10);
            print |= digit != 0;
            if (print)
            {
                digits[--w] = (char)('0' + digit);
            }
            v /= 10;
        }
        if (print)
        {
            digits[--w] = '.';
            sb.Insert(0, digits[w..]);
        }
        return v;
    }

    private static ulong UnitOf(string unit) => unit switch
    {
        "ns" => Nanosecond,
        "us" => Microsecond,
        "\u00b5s" => Microsecond, // U+00B5 micro sign
        "\u03bcs" => Microsecond, // U+03BC Greek small letter mu
        "ms" => Millisecond,
        "s" => Second,
        "m" => Minute,
        "h" => Hour,
        _ => 0,
    };

    private static bool IsDigit(char c) => c is >= '0' and <= '9';

    /// <summary>Go's time-package quoting: ASCII kept (with \" and \\ escaped), other bytes as \xNN.</summary>
    internal static string Quote(string s)
    {
        var sb = new StringBuilder(s.Length + 2);
        sb.Append('"');
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c >= 0x80 || c < ' ')
            {
                var len = char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]) ? 2 : 1;
                var n = Encoding.UTF8.GetBytes(s.AsSpan(i, len), utf8);
                i += len - 1;
                foreach (var b in utf8[..n])
                {
                    sb.Append("\\x").Append(b.ToString("x2"));
                }
            }
            else
            {
                if (c is '"' or '\\')
                {
                    sb.Append('\\');
                }
                sb.Append(c);
            }
        }
        sb.Append('"');
        return sb.ToString();
    }
}
