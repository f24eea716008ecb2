using System.Globalization;
using System.Text.Json;
using Kiln.Core.Accelerators;

namespace Kiln.Runtime.Accelerators;

/// <summary>The <c>rocm-smi</c> query Kiln runs, and its parser.</summary>
public static class RocmSmi
{
    /// <summary>The program.</summary>
    public const string Program = "rocm-smi";

    /// <summary>Product names, VRAM and unique IDs of every card, as JSON.</summary>
    public static IReadOnlyList<string> Arguments { get; } = ["--showproductname", "--showmeminfo", "vram", "--showuniqueid", "--json"];

    /// <summary>
    /// The GPUs in <see cref="Arguments"/>' output: an object with one <c>cardN</c> member per GPU
    /// (field names vary in case between ROCm versions), possibly after warning lines.
    /// </summary>
    public static DiscoveredDevices Parse(string output)
    {
        var warnings = new List<string>();
        var start = output.IndexOf('{');
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(start < 0 ? "" : output[start..]);
        }
        catch (JsonException)
        {
            return new([], [$"{Program}: the output is not the JSON Kiln asked for: {NvidiaSmi.Shorten(output.Trim())}"]);
        }
        var devices = new List<AcceleratorDevice>();
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                return new([], [$"{Program}: the output is not a JSON object"]);
            }
            foreach (var card in doc.RootElement.EnumerateObject())
            {
                if (!card.Name.StartsWith("card", StringComparison.OrdinalIgnoreCase)
                    || !int.TryParse(card.Name.AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out var index)
                    || card.Value.ValueKind != JsonValueKind.Object)
                {
                    continue; // "system" and other members
                }
                var name = Field(card.Value, "Card Series") ?? Field(card.Value, "Card SKU") ?? Field(card.Value, "Card Model") ?? "";
                var memory = long.TryParse(Field(card.Value, "VRAM Total Memory (B)"), NumberStyles.None, CultureInfo.InvariantCulture, out var bytes)
                    ? bytes / (1024 * 1024)
                    : (long?)null;
                var unique = Field(card.Value, "Unique ID");
                if (DeviceNames.TypeOf(name, memory) is not { } type)
                {
                    warnings.Add($"{Program}: GPU {index} ({(name.Length > 0 ? name : "no product name")}) matches no Kiln accelerator type; it is not offered (name its type in --accelerators-file to use it)");
                    continue;
                }
                // ROCm names a device by "GPU-" and its unique ID in hex, without the 0x.
                var uuid = unique is { Length: > 2 } u && u.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? "GPU-" + u[2..] : null;
                devices.Add(new AcceleratorDevice(type, DeviceVendor.Amd, index, uuid, name, memory));
            }
        }
        return new(devices, warnings);
    }

    private static string? Field(JsonElement card, string name)
    {
        foreach (var p in card.EnumerateObject())
        {
            if (string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase) && p.Value.ValueKind == JsonValueKind.String)
            {
                var s = p.Value.GetString()!.Trim();
                return s.Length == 0 || s.Equals("N/A", StringComparison.OrdinalIgnoreCase) ? null : s;
            }
        }
        return null;
    }
}
