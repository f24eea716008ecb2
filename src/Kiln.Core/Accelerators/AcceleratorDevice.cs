using Kiln.Core.Deployments;

namespace Kiln.Core.Accelerators;

/// <summary>Who made a GPU: it decides the variable that hides the others from a replica.</summary>
public enum DeviceVendor
{
    /// <summary>NVIDIA (CUDA).</summary>
    Nvidia,
    /// <summary>AMD (ROCm).</summary>
    Amd,
}

/// <summary>One GPU of a node.</summary>
/// <param name="Type">The Kiln accelerator type it counts as.</param>
/// <param name="Vendor">Who made it.</param>
/// <param name="Index">Its index as the vendor's tool lists it.</param>
/// <param name="Uuid">Its UUID when known (<c>GPU-…</c>): preferred, as it names the same device whatever the enumeration order.</param>
/// <param name="Name">The product name the tool reported (or the configuration gave).</param>
/// <param name="MemoryMiB">Its memory in MiB, when known.</param>
public sealed record AcceleratorDevice(AcceleratorType Type, DeviceVendor Vendor, int Index, string? Uuid, string Name, long? MemoryMiB)
{
    /// <summary>What a replica is given to name it: the UUID when known, else the index.</summary>
    public string Id => string.IsNullOrEmpty(Uuid) ? Index.ToString(System.Globalization.CultureInfo.InvariantCulture) : Uuid;
}

/// <summary>The environment that restricts a process to some devices.</summary>
public static class VisibleDevices
{
    /// <summary>The variable CUDA reads.</summary>
    public const string Cuda = "CUDA_VISIBLE_DEVICES";

    /// <summary>The variable ROCm's runtime reads.</summary>
    public const string Rocr = "ROCR_VISIBLE_DEVICES";

    /// <summary>The variable that makes CUDA number devices as <c>nvidia-smi</c> does (it orders fastest first otherwise).</summary>
    public const string CudaOrder = "CUDA_DEVICE_ORDER";

    /// <summary>The variable for <paramref name="vendor"/>.</summary>
    public static string VariableFor(DeviceVendor vendor) => vendor == DeviceVendor.Amd ? Rocr : Cuda;

    /// <summary>
    /// The environment a replica holding <paramref name="devices"/> gets. A CPU replica (no devices)
    /// gets both variables empty, so an engine it runs sees no GPU rather than every GPU.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Environment(IReadOnlyList<AcceleratorDevice> devices)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal) { [Cuda] = "", [Rocr] = "" };
        foreach (var group in devices.GroupBy(d => d.Vendor))
        {
            env[VariableFor(group.Key)] = string.Join(',', group.Select(d => d.Id));
        }
        if (devices.Any(d => d.Vendor == DeviceVendor.Nvidia && string.IsNullOrEmpty(d.Uuid)))
        {
            env[CudaOrder] = "PCI_BUS_ID";
        }
        return env;
    }

    /// <summary>The device IDs a process environment names (both variables; empty when neither is set).</summary>
    public static IReadOnlyList<string> Parse(IReadOnlyDictionary<string, string> environment) =>
        [.. new[] { Cuda, Rocr }
            .Select(v => environment.GetValueOrDefault(v) ?? "")
            .SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))];
}
