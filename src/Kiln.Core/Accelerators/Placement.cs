using Kiln.Core.Deployments;
using Kiln.Core.Errors;

namespace Kiln.Core.Accelerators;

/// <summary>Whether an inventory can ever place a replica of some type and size, and what a new deployment asks for by default.</summary>
public static class Placement
{
    /// <summary>
    /// Null when some node holds <paramref name="count"/> accelerators of <paramref name="type"/>
    /// (free or not: a busy node frees up); else the violation to refuse the spec with, naming what
    /// exists. An unknown inventory refuses nothing.
    /// </summary>
    public static FieldViolation? Check(AcceleratorInventory inventory, AcceleratorType type, int count)
    {
        if (inventory.Unknown || inventory.Nodes.Any(n => n.Holds(type) >= count))
        {
            return null;
        }
        var most = inventory.Nodes.Max(n => n.Holds(type));
        var available = $"available: {Describe(inventory)}";
        return most == 0
            ? new FieldViolation("acceleratorType", $"no node holds {type.ToWireName()}; {available}")
            : new FieldViolation("acceleratorCount", $"no node holds {count} x {type.ToWireName()} (at most {most} on one node); {available}");
    }

    /// <summary>
    /// The type a deployment that names none gets: the GPU type with the most devices on one node,
    /// else Fireworks' default where GPUs of unknown type exist, else <c>CPU</c>.
    /// </summary>
    public static AcceleratorType DefaultType(AcceleratorInventory inventory)
    {
        var pools = inventory.Nodes.SelectMany(n => n.Pools).Where(p => p.Total > 0).ToList();
        var gpu = pools.Where(p => p.Type is { } t && t.IsGpu()).OrderByDescending(p => p.Total).ThenBy(p => p.Type).FirstOrDefault();
        if (gpu?.Type is { } type)
        {
            return type;
        }
        return pools.Any(p => p.Type is null) ? AcceleratorType.NvidiaA100_80GB : AcceleratorType.Cpu;
    }

    /// <summary>"local: 4 x NVIDIA_H100_80GB, 2 x CPU"; nodes separated by "; ".</summary>
    public static string Describe(AcceleratorInventory inventory) =>
        inventory.Nodes.Count == 0
            ? "nothing"
            : string.Join("; ", inventory.Nodes.Select(n =>
                $"{n.Node}: {(n.Pools.Count == 0 ? "nothing" : string.Join(", ", n.Pools.Select(p => $"{p.Total} x {p.Type?.ToWireName() ?? "GPU"}")))}"));
}
