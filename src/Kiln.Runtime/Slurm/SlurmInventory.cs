using Kiln.Core.Accelerators;
using Kiln.Core.Deployments;

namespace Kiln.Runtime.Slurm;

/// <summary>
/// A Slurm cluster's accelerators as Kiln types: each node's typed GPU gres named by
/// <see cref="DeviceNames"/> (<c>gpu:h100:4</c> is 4 x NVIDIA_H100_80GB), GPUs without a type (or
/// of a type no rule knows) as GPUs any GPU type may use, and its CPUs.
/// </summary>
public static class SlurmInventory
{
    /// <summary>One node's pools; <paramref name="holders"/> are Kiln's jobs on it with the type each asked for.</summary>
    public static NodeAccelerators Node(SlurmNode node, IReadOnlyList<(ReplicaHolding Holding, AcceleratorType Type)> holders)
    {
        var pools = new List<AcceleratorPool>();
        foreach (var group in node.GpusByType.GroupBy(kv => TypeOf(kv.Key)).OrderBy(g => g.Key is null).ThenBy(g => g.Key))
        {
            var total = group.Sum(kv => kv.Value);
            var mine = holders.Where(h => h.Type.IsGpu() && (group.Key is null ? !node.GpusByType.Keys.Any(k => TypeOf(k) == h.Type) : h.Type == group.Key))
                .Select(h => h.Holding).ToList();
            pools.Add(new AcceleratorPool(group.Key, total, Math.Max(0, total - mine.Sum(h => h.Count)), [], mine));
        }
        var cpu = holders.Where(h => h.Type == AcceleratorType.Cpu).Select(h => h.Holding).ToList();
        pools.Add(new AcceleratorPool(AcceleratorType.Cpu, node.Cpus, Math.Max(0, node.Cpus - cpu.Sum(h => h.Count)), [], cpu));
        return new NodeAccelerators(node.Name, pools);
    }

    /// <summary>
    /// The gres type name to ask sbatch for so that a job of <paramref name="type"/> lands on GPUs of
    /// that type, or null to ask for untyped GPUs (no node lists the type by name).
    /// </summary>
    public static string? GresType(IEnumerable<SlurmNode> nodes, AcceleratorType type) =>
        nodes.SelectMany(n => n.GpusByType.Keys).Where(k => k.Length > 0 && TypeOf(k) == type).Order(StringComparer.Ordinal).FirstOrDefault();

    private static AcceleratorType? TypeOf(string gresType) => gresType.Length == 0 ? null : DeviceNames.TypeOf(gresType);
}
