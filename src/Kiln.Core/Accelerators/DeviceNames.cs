using Kiln.Core.Deployments;

namespace Kiln.Core.Accelerators;

/// <summary>
/// Maps a GPU's product name (as <c>nvidia-smi</c>, <c>rocm-smi</c> or a Slurm gres type names it)
/// to a Kiln accelerator type: "NVIDIA H100 80GB HBM3" is <c>NVIDIA_H100_80GB</c>.
/// </summary>
/// <remarks>
/// Names are matched by family, as whole words (an L40S is not an L4). The A100 comes with 40 or
/// 80 GB: the memory the tool reports decides, else a "40GB"/"80GB" in the name; without either
/// the type is unknown. A GPU no rule knows has no type: the inventory leaves it out with a
/// warning, and the configuration may name its type.
/// </remarks>
public static class DeviceNames
{
    // A100s report a little under their nominal size (81920 MiB nominal, 81559 reported).
    private const long A100_80GBMinMiB = 60 * 1024;

    private static readonly (string Word, AcceleratorType Type)[] Families =
    [
        ("H100", AcceleratorType.NvidiaH100_80GB),
        ("H200", AcceleratorType.NvidiaH200_141GB),
        ("B200", AcceleratorType.NvidiaB200_180GB),
        ("A10G", AcceleratorType.NvidiaA10G_24GB),
        ("L4", AcceleratorType.NvidiaL4_24GB),
        ("MI300X", AcceleratorType.AmdMi300X_192GB),
    ];

    /// <summary>The type of a GPU named <paramref name="name"/> with <paramref name="memoryMiB"/> of memory, or null when no rule knows it.</summary>
    public static AcceleratorType? TypeOf(string? name, long? memoryMiB = null)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return null;
        }
        var words = Words(name);
        if (words.Contains("A100"))
        {
            return memoryMiB is { } m ? m >= A100_80GBMinMiB ? AcceleratorType.NvidiaA100_80GB : AcceleratorType.NvidiaA100_40GB
                : words.Contains("80GB") ? AcceleratorType.NvidiaA100_80GB
                : words.Contains("40GB") ? AcceleratorType.NvidiaA100_40GB
                : null;
        }
        foreach (var (word, type) in Families)
        {
            if (words.Contains(word))
            {
                return type;
            }
        }
        return null;
    }

    /// <summary>The vendor a product name points to (AMD for Instinct/Radeon/MI parts, else NVIDIA).</summary>
    public static DeviceVendor VendorOf(AcceleratorType type) => type == AcceleratorType.AmdMi300X_192GB ? DeviceVendor.Amd : DeviceVendor.Nvidia;

    /// <summary>Upper-case words of a name split at spaces, dashes and underscores ("A100-SXM4-80GB" is A100, SXM4, 80GB).</summary>
    private static HashSet<string> Words(string name) =>
        [.. name.ToUpperInvariant().Split([' ', '-', '_', '/', '(', ')', ','], StringSplitOptions.RemoveEmptyEntries)];
}
