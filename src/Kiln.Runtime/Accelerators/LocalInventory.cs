using Kiln.Core.Accelerators;
using Kiln.Core.Deployments;

namespace Kiln.Runtime.Accelerators;

/// <summary>What this machine offers replicas: its GPUs, each by type, and CPU slots.</summary>
/// <param name="Devices">The GPUs.</param>
/// <param name="CpuSlots">CPU slots (0: no <c>CPU</c> deployment fits).</param>
/// <param name="Source">Where it came from: "nvidia-smi", "rocm-smi", "cores", "configuration".</param>
/// <param name="Warnings">What discovery could not use.</param>
public sealed record LocalInventory(IReadOnlyList<AcceleratorDevice> Devices, int CpuSlots, string Source, IReadOnlyList<string> Warnings)
{
    /// <summary>CPU slots only.</summary>
    public static LocalInventory Cpu(int slots, string source = "configuration") => new([], slots, source, []);

    /// <summary>How many accelerators of <paramref name="type"/> exist.</summary>
    public int Count(AcceleratorType type) => type == AcceleratorType.Cpu ? CpuSlots : Devices.Count(d => d.Type == type);

    /// <summary>The types it holds, GPUs first.</summary>
    public IReadOnlyList<AcceleratorType> Types =>
        [.. Devices.Select(d => d.Type).Distinct().Order(), .. CpuSlots > 0 ? [AcceleratorType.Cpu] : Array.Empty<AcceleratorType>()];

    /// <summary>"4 x NVIDIA_H100_80GB (nvidia-smi)", "8 CPU slot(s) (cores)".</summary>
    public override string ToString()
    {
        var parts = Types.Select(t => t == AcceleratorType.Cpu ? $"{CpuSlots} CPU slot(s)" : $"{Count(t)} x {t.ToWireName()}").ToList();
        return $"{(parts.Count == 0 ? "no accelerators" : string.Join(", ", parts))} ({Source})";
    }
}
