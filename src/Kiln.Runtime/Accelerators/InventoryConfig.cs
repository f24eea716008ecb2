using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using Kiln.Core.Accelerators;
using Kiln.Core.Deployments;

namespace Kiln.Runtime.Accelerators;

/// <summary>
/// An inventory the server's configuration gives instead of discovery: <c>--accelerators
/// NVIDIA_H100_80GB:4,CPU:8</c>, or <c>--accelerators-file</c> with each device (index, UUID, name, memory).
/// </summary>
public static class InventoryConfig
{
    /// <summary>
    /// Parses <c>TYPE:COUNT[,TYPE:COUNT...]</c>: GPUs of each type numbered from 0 per vendor in the
    /// order given, and <c>CPU:N</c> for CPU slots.
    /// </summary>
    public static bool TryParseList(string text, [NotNullWhen(true)] out LocalInventory? inventory, [NotNullWhen(false)] out string? error)
    {
        inventory = null;
        var devices = new List<AcceleratorDevice>();
        var cpu = 0;
        var seen = new HashSet<AcceleratorType>();
        foreach (var item in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var parts = item.Split(':');
            if (parts.Length != 2 || !AcceleratorTypes.TryParse(parts[0], out var type))
            {
                error = $"\"{item}\" is not TYPE:COUNT with TYPE one of {string.Join(", ", AcceleratorTypes.WireNames)}";
                return false;
            }
            if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count is < 1 or > 1024)
            {
                error = $"\"{item}\": the count must be a whole number from 1 to 1024";
                return false;
            }
            if (!seen.Add(type))
            {
                error = $"{parts[0]} is given twice";
                return false;
            }
            if (type == AcceleratorType.Cpu)
            {
                cpu = count;
                continue;
            }
            var vendor = DeviceNames.VendorOf(type);
            var next = devices.Count(d => d.Vendor == vendor);
            devices.AddRange(Enumerable.Range(next, count).Select(i => new AcceleratorDevice(type, vendor, i, null, type.ToWireName(), null)));
        }
        inventory = new LocalInventory(devices, cpu, "--accelerators", []);
        error = null;
        return true;
    }

    /// <summary>
    /// Parses the inventory file: <c>{"devices": [{"type": "NVIDIA_H100_80GB", "index": 0,
    /// "uuid": "GPU-…", "name": "…", "memoryMiB": 81559}, …], "cpuSlots": 8}</c>. Only
    /// <c>type</c> and <c>index</c> are required; each device names its type, so a GPU discovery
    /// does not know can be offered as the type the operator chooses.
    /// </summary>
    public static bool TryParseFile(string json, [NotNullWhen(true)] out LocalInventory? inventory, [NotNullWhen(false)] out string? error)
    {
        inventory = null;
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = "must be a JSON object with \"devices\" and/or \"cpuSlots\"";
                return false;
            }
            var devices = new List<AcceleratorDevice>();
            var cpu = 0;
            foreach (var p in root.EnumerateObject())
            {
                switch (p.Name)
                {
                    case "cpuSlots" when p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt32(out var n) && n >= 0:
                        cpu = n;
                        break;
                    case "cpuSlots":
                        error = $"cpuSlots must be a whole number of at least 0, got {p.Value.GetRawText()}";
                        return false;
                    case "devices" when p.Value.ValueKind == JsonValueKind.Array:
                        var i = 0;
                        foreach (var d in p.Value.EnumerateArray())
                        {
                            if (Device(d, $"devices[{i++}]", out var device, out error) is false)
                            {
                                return false;
                            }
                            if (devices.FirstOrDefault(x => x.Vendor == device!.Vendor && (x.Index == device.Index || (x.Uuid is not null && x.Uuid == device.Uuid))) is { } twin)
                            {
                                error = $"devices[{i - 1}]: device {device!.Id} of {device.Vendor} is listed twice (as {twin.Id} before)";
                                return false;
                            }
                            devices.Add(device!);
                        }
                        break;
                    case "devices":
                        error = "devices must be an array";
                        return false;
                    default:
                        error = $"unknown field \"{p.Name}\" (expected devices, cpuSlots)";
                        return false;
                }
            }
            inventory = new LocalInventory(devices, cpu, "--accelerators-file", []);
            error = null;
            return true;
        }
        catch (JsonException e)
        {
            error = $"not valid JSON: {e.Message}";
            return false;
        }
    }

    private static bool Device(JsonElement d, string at, out AcceleratorDevice? device, [NotNullWhen(false)] out string? error)
    {
        device = null;
        if (d.ValueKind != JsonValueKind.Object)
        {
            error = $"{at} must be an object";
            return false;
        }
        AcceleratorType? type = null;
        int? index = null;
        string? uuid = null, name = null;
        long? memory = null;
        foreach (var p in d.EnumerateObject())
        {
            var ok = p.Name switch
            {
                "type" => p.Value.ValueKind == JsonValueKind.String && AcceleratorTypes.TryParse(p.Value.GetString(), out var t) && t.IsGpu() && (type = t) is not null,
                "index" => p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt32(out var n) && n >= 0 && (index = n) is not null,
                "uuid" => p.Value.ValueKind == JsonValueKind.String && (uuid = p.Value.GetString()) is { Length: > 0 } u && !u.Contains(','),
                "name" => p.Value.ValueKind == JsonValueKind.String && (name = p.Value.GetString()) is not null,
                "memoryMiB" => p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt64(out var m) && m > 0 && (memory = m) is not null,
                _ => false,
            };
            if (!ok)
            {
                error = p.Name switch
                {
                    "type" => $"{at}.type: expected a GPU type, one of {string.Join(", ", AcceleratorTypes.WireNames.Where(w => w != "CPU"))}; got {p.Value.GetRawText()}",
                    "index" => $"{at}.index: expected a whole number of at least 0, got {p.Value.GetRawText()}",
                    "uuid" => $"{at}.uuid: expected a non-empty string without commas, got {p.Value.GetRawText()}",
                    "name" => $"{at}.name: expected a string, got {p.Value.GetRawText()}",
                    "memoryMiB" => $"{at}.memoryMiB: expected a positive number, got {p.Value.GetRawText()}",
                    _ => $"{at}: unknown field \"{p.Name}\" (expected type, index, uuid, name, memoryMiB)",
                };
                return false;
            }
        }
        if (type is null || index is null)
        {
            error = $"{at}: needs {(type is null ? "type" : "index")}";
            return false;
        }
        device = new AcceleratorDevice(type.Value, DeviceNames.VendorOf(type.Value), index.Value, uuid, name ?? type.Value.ToWireName(), memory);
        error = null;
        return true;
    }
}
