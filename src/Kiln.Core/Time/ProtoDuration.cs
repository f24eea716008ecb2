using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Kiln.Core.Time;

/// <summary>
/// The protobuf JSON form of <c>google.protobuf.Duration</c> used by the Fireworks REST API:
/// decimal seconds with an "s" suffix, e.g. "600s", "0.500s", "-1.5s".
/// </summary>
/// <remarks>
/// Formatting writes 0, 3, 6 or 9 fractional digits as protobuf does; parsing accepts up to 9.
/// The protobuf range is ±315,576,000,000 s. Digits below 100 ns are truncated by
/// <see cref="TimeSpan"/>.
/// </remarks>
public static class ProtoDuration
{
    /// <summary>Largest magnitude protobuf allows, in seconds (10,000 years).</summary>
    public const long MaxSeconds = 315_576_000_000;

    /// <summary>"600s", "0.500s", "1.000000100s", "-2s".</summary>
    public static string Format(TimeSpan value)
    {
        var ticks = (Int128)value.Ticks;
        var neg = ticks < 0;
        var abs = neg ? -ticks : ticks;
        var seconds = abs / TimeSpan.TicksPerSecond;
        var nanos = (int)(abs % TimeSpan.TicksPerSecond) * 100;
        var fraction = nanos == 0 ? ""
            : nanos % 1_000_000 == 0 ? "." + (nanos / 1_000_000).ToString("D3", CultureInfo.InvariantCulture)
            : nanos % 1_000 == 0 ? "." + (nanos / 1_000).ToString("D6", CultureInfo.InvariantCulture)
            : "." + nanos.ToString("D9", CultureInfo.InvariantCulture);
        return $"{(neg ? "-" : "")}{seconds}{fraction}s";
    }

    /// <summary>Parses "30s", "1.5s", "-0.001s"; throws <see cref="FormatException"/>.</summary>
    public static TimeSpan Parse(string s) => TryParse(s, out var value, out var error) ? value : throw new FormatException(error);

    /// <summary>Parses <c>-?[0-9]+(\.[0-9]{1,9})?s</c> within the protobuf range.</summary>
    public static bool TryParse(string? s, out TimeSpan value, [NotNullWhen(false)] out string? error)
    {
        value = TimeSpan.Zero;
        error = $"invalid duration \"{s}\": expected seconds with an \"s\" suffix, e.g. \"30s\" or \"0.500s\"";
        if (string.IsNullOrEmpty(s) || s[^1] != 's')
        {
            return false;
        }
        var body = s.AsSpan(0, s.Length - 1);
        var neg = body.Length > 0 && body[0] == '-';
        if (neg)
        {
            body = body[1..];
        }
        var dot = body.IndexOf('.');
        var whole = dot < 0 ? body : body[..dot];
        var frac = dot < 0 ? [] : body[(dot + 1)..];
        if (whole.Length == 0 || !AllDigits(whole) || (dot >= 0 && (frac.Length is 0 or > 9 || !AllDigits(frac))))
        {
            return false;
        }
        if (whole.Length > 12 || !long.TryParse(whole, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds > MaxSeconds)
        {
            error = $"invalid duration \"{s}\": out of range (at most {MaxSeconds}s)";
            return false;
        }
        long nanos = 0;
        for (var i = 0; i < 9; i++)
        {
            nanos = nanos * 10 + (i < frac.Length ? frac[i] - '0' : 0);
        }
        var ticks = seconds * TimeSpan.TicksPerSecond + nanos / 100;
        value = TimeSpan.FromTicks(neg ? -ticks : ticks);
        error = null;
        return true;
    }

    private static bool AllDigits(ReadOnlySpan<char> s)
    {
        foreach (var c in s)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }
        return true;
    }
}
