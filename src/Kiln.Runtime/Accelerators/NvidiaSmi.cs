using System.Globalization;
using Kiln.Core.Accelerators;

namespace Kiln.Runtime.Accelerators;

/// <summary>The <c>nvidia-smi</c> query Kiln runs, and its parser.</summary>
public static class NvidiaSmi
{
    /// <summary>The program.</summary>
    public const string Program = "nvidia-smi";

    /// <summary>One CSV line per GPU: index, product name, total memory, UUID.</summary>
    public static IReadOnlyList<string> Arguments { get; } = ["--query-gpu=index,name,memory.total,uuid", "--format=csv,noheader"];

    /// <summary>
    /// The GPUs in <see cref="Arguments"/>' output, and a warning for each line that is not one or
    /// names a GPU no Kiln type matches (<see cref="DeviceNames"/>).
    /// </summary>
    public static DiscoveredDevices Parse(string output)
    {
        var devices = new List<AcceleratorDevice>();
        var warnings = new List<string>();
        foreach (var raw in output.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0)
            {
                continue;
            }
            var f = line.Split(',', StringSplitOptions.TrimEntries);
            // A product name with a comma would split in two: the first field and the last two are fixed.
            if (f.Length < 4 || !int.TryParse(f[0], NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            {
                warnings.Add($"{Program}: ignored a line that is not \"index, name, memory, uuid\": {Shorten(line)}");
                continue;
            }
            var name = string.Join(", ", f[1..^2]);
            var memory = MiB(f[^2]);
            var uuid = f[^1].StartsWith("GPU-", StringComparison.OrdinalIgnoreCase) ? f[^1] : null;
            if (DeviceNames.TypeOf(name, memory) is not { } type)
            {
                warnings.Add($"{Program}: GPU {index} ({name}) matches no Kiln accelerator type; it is not offered (name its type in --accelerators-file to use it)");
                continue;
            }
            if (devices.Any(d => d.Index == index))
            {
                warnings.Add($"{Program}: GPU index {index} is listed twice; the second is ignored");
                continue;
            }
            devices.Add(new AcceleratorDevice(type, DeviceVendor.Nvidia, index, uuid, name, memory));
        }
        return new(devices, warnings);
    }

    /// <summary>"81559 MiB" or "81559" (with <c>nounits</c>); null for "[N/A]" and the like.</summary>
    private static long? MiB(string text)
    {
        var number = text.EndsWith("MiB", StringComparison.OrdinalIgnoreCase) ? text[..^3].Trim() : text;
        return long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var m) ? m : null;
    }

    internal static string Shorten(string line) => line.Length <= 120 ? line : line[..120] + "…";
}

/// <summary>What one discovery tool found.</summary>
/// <param name="Devices">The GPUs it listed that Kiln can offer.</param>
/// <param name="Warnings">What it could not use.</param>
public sealed record DiscoveredDevices(IReadOnlyList<AcceleratorDevice> Devices, IReadOnlyList<string> Warnings);
