using System.Diagnostics;

namespace Kiln.Runtime;

/// <summary>What a replica's world size is counted in.</summary>
public enum SlotKind
{
    /// <summary>CPU cores: a replica of world size N runs N engine threads.</summary>
    Cpu,
    /// <summary>GPUs listed by <c>nvidia-smi -L</c>.</summary>
    Gpu,
}

/// <summary>The node's accelerator slots, shared by every replica it runs.</summary>
/// <param name="Kind">CPU cores or GPUs.</param>
/// <param name="Slots">How many.</param>
public sealed record AcceleratorInventory(SlotKind Kind, int Slots)
{
    /// <summary>"8 CPU slots", "2 GPUs".</summary>
    public override string ToString() => Kind == SlotKind.Gpu ? $"{Slots} GPU(s)" : $"{Slots} CPU slot(s)";

    /// <summary>
    /// GPUs when <c>nvidia-smi -L</c> lists any, else one CPU slot per core.
    /// <paramref name="cpuSlots"/> forces a CPU inventory of that size (to run several small replicas
    /// on a small machine, or to keep cores free for other work).
    /// </summary>
    public static AcceleratorInventory Detect(int? cpuSlots = null)
    {
        if (cpuSlots is { } n)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(n, 1, nameof(cpuSlots));
            return new(SlotKind.Cpu, n);
        }
        var gpus = CountGpus();
        return gpus > 0 ? new(SlotKind.Gpu, gpus) : new(SlotKind.Cpu, Environment.ProcessorCount);
    }

    private static int CountGpus()
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("nvidia-smi", "-L")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (p is null)
            {
                return 0;
            }
            var output = p.StandardOutput.ReadToEndAsync();
            if (!p.WaitForExit(5000) || p.ExitCode != 0)
            {
                return 0;
            }
            return output.Result.Split('\n').Count(l => l.StartsWith("GPU ", StringComparison.Ordinal));
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return 0; // no nvidia-smi: no NVIDIA GPUs
        }
    }
}
