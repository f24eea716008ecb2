using Kiln.Core.Wire;

namespace Kiln.Core.Deployments;

/// <summary>The accelerator a replica asks for; wire names as Fireworks ("NVIDIA_A100_80GB").</summary>
/// <remarks>
/// A deployment may ask only for a type its runtime's inventory holds (<c>Kiln.Core.Accelerators</c>):
/// the GPUs the node's tools report or its configuration names, or <see cref="Cpu"/> slots. The
/// names are Fireworks' where Fireworks has the type; <see cref="NvidiaA100_40GB"/> and
/// <see cref="Cpu"/> are Kiln's own.
/// </remarks>
public enum AcceleratorType
{
    /// <summary>NVIDIA A100 80 GB (Fireworks' default).</summary>
    NvidiaA100_80GB,
    /// <summary>NVIDIA H100 80 GB.</summary>
    NvidiaH100_80GB,
    /// <summary>NVIDIA H200 141 GB.</summary>
    NvidiaH200_141GB,
    /// <summary>NVIDIA B200 180 GB.</summary>
    NvidiaB200_180GB,
    /// <summary>AMD MI300X 192 GB.</summary>
    AmdMi300X_192GB,
    /// <summary>NVIDIA A10G 24 GB.</summary>
    NvidiaA10G_24GB,
    /// <summary>NVIDIA L4 24 GB.</summary>
    NvidiaL4_24GB,
    /// <summary>NVIDIA A100 40 GB (Kiln only: a 40 GB A100 is not sold as the 80 GB one).</summary>
    NvidiaA100_40GB,
    /// <summary>CPU cores of the local node (Kiln only).</summary>
    Cpu,
}

/// <summary>Wire names and facts about <see cref="AcceleratorType"/>.</summary>
public static class AcceleratorTypes
{
    private static readonly WireTable<AcceleratorType> Table = new(
        (AcceleratorType.NvidiaA100_80GB, "NVIDIA_A100_80GB"),
        (AcceleratorType.NvidiaH100_80GB, "NVIDIA_H100_80GB"),
        (AcceleratorType.NvidiaH200_141GB, "NVIDIA_H200_141GB"),
        (AcceleratorType.NvidiaB200_180GB, "NVIDIA_B200_180GB"),
        (AcceleratorType.AmdMi300X_192GB, "AMD_MI300X_192GB"),
        (AcceleratorType.NvidiaA10G_24GB, "NVIDIA_A10G_24GB"),
        (AcceleratorType.NvidiaL4_24GB, "NVIDIA_L4_24GB"),
        (AcceleratorType.NvidiaA100_40GB, "NVIDIA_A100_40GB"),
        (AcceleratorType.Cpu, "CPU"));

    /// <summary>Every wire name, in declaration order (for help texts and error messages).</summary>
    public static IReadOnlyList<string> WireNames { get; } = [.. Table.Names];

    /// <summary>The wire name, e.g. "NVIDIA_H100_80GB".</summary>
    public static string ToWireName(this AcceleratorType type) => Table.Name(type);

    /// <summary>Parses a wire name (exact).</summary>
    public static bool TryParse(string? name, out AcceleratorType type) => Table.TryParse(name, out type);

    /// <summary>True for every type except <see cref="AcceleratorType.Cpu"/>.</summary>
    public static bool IsGpu(this AcceleratorType type) => type != AcceleratorType.Cpu;
}
