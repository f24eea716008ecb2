using System.Globalization;

namespace Kiln.Cli.Formatting;

/// <summary>
/// The JSON form of a protobuf Duration: seconds with an "s" suffix and 0, 3, 6 or 9 fractional
/// digits ("5400s", "0.500s"), which is what the control-plane API speaks.
/// </summary>
public static class ProtoDuration
{
    public static string Format(long nanoseconds)
    {
        var negative = nanoseconds < 0;
        var u = negative ? unchecked((ulong)-nanoseconds) : (ulong)nanoseconds;
        var seconds = u / GoDuration.Second;
        var nanos = u % GoDuration.Second;
        var sign = negative ? "-" : "";
        var whole = seconds.ToString(CultureInfo.InvariantCulture);
        if (nanos == 0)
            return $"{sign}{whole}s";
        var digits = nanos % 1_000_000 == 0 ? $"{nanos / 1_000_000:D3}"
            : nanos % 1000 == 0 ? $"{nanos / 1000:D6}"
            : $"{nanos:D9}";
        return $"{sign}{whole}.{digits}s";
    }

    public static bool TryParse(string? text, out long nanoseconds)
    {
        nanoseconds = 0;
        if (string.IsNullOrEmpty(text) || text[^1] != 's')
            return false;
        var s = text.AsSpan(0, text.Length - 1);
        var negative = s.Length > 0 && s[0] == '-';
        if (negative)
            s = s[1..];
        var dot = s.IndexOf('.');
        var wholePart = dot < 0 ? s : s[..dot];
        var fracPart = dot < 0 ? [] : s[(dot + 1)..];
        if (wholePart.IsEmpty || fracPart.Length > 9 || (dot >= 0 && fracPart.IsEmpty))
            return false;
        foreach (var c in fracPart)
        {
            if (!char.IsAsciiDigit(c))
                return false;
        }
        if (!long.TryParse(wholePart, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || seconds > long.MaxValue / GoDuration.Second - 1)
            return false;
        long nanos = 0;
        if (!fracPart.IsEmpty)
            nanos = long.Parse(fracPart.ToString().PadRight(9, '0'), NumberStyles.None, CultureInfo.InvariantCulture);
        var total = seconds * GoDuration.Second + nanos;
        nanoseconds = negative ? -total : total;
        return true;
    }

    /// <summary>Renders an API duration the Go way ("600s" -> "10m0s"); unparseable text is shown as is.</summary>
    public static string ToGo(string? text) =>
        TryParse(text, out var ns) ? GoDuration.Format(ns) : text ?? "";
}
