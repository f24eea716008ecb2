using System.Globalization;

namespace Kiln.Cli.Formatting;

/// <summary>Human-readable byte counts in decimal units (MB = 10^6 bytes), as in transfer rates.</summary>
public static class ByteSize
{
    private static readonly string[] Units = ["B", "kB", "MB", "GB", "TB"];

    public static string Format(double bytes)
    {
        var unit = 0;
        while (Math.Abs(bytes) >= 1000 && unit < Units.Length - 1)
        {
            bytes /= 1000;
            unit++;
        }
        return unit == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes:0} B")
            : string.Create(CultureInfo.InvariantCulture, $"{bytes:0.0} {Units[unit]}");
    }
}
