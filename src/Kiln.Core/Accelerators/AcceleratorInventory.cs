using Kiln.Core.Deployments;

namespace Kiln.Core.Accelerators;

/// <summary>What a runtime's nodes hold and who uses it, as <c>GET /v1/accelerators</c> shows it.</summary>
/// <param name="Source">Where the inventory came from: "nvidia-smi", "configuration", "sinfo"...</param>
/// <param name="Nodes">Each node and its pools.</param>
/// <param name="Warnings">What discovery could not use (a tool that failed, a GPU of unknown type).</param>
public sealed record AcceleratorInventory(string Source, IReadOnlyList<NodeAccelerators> Nodes, IReadOnlyList<string> Warnings)
{
    /// <summary>True while nothing is known yet (a cluster not read yet): nothing is refused then.</summary>
    public bool Unknown => Nodes.Count == 0;
}

/// <summary>One node's accelerators, one pool per type.</summary>
/// <param name="Node">The node's name ("local" for the server's machine).</param>
/// <param name="Pools">What it holds, one pool per type.</param>
public sealed record NodeAccelerators(string Node, IReadOnlyList<AcceleratorPool> Pools)
{
    /// <summary>How many accelerators of <paramref name="type"/> this node could give one replica: its pool of that type, or for a GPU type its GPUs of unknown type.</summary>
    public int Holds(AcceleratorType type) =>
        Pools.Where(p => p.Type == type || (p.Type is null && type.IsGpu())).Select(p => p.Total).DefaultIfEmpty(0).Max();
}

/// <summary>Accelerators of one type on one node.</summary>
/// <param name="Type">Their type; null for GPUs whose type the runtime cannot tell (a Slurm gres without a type), which any GPU type may use.</param>
/// <param name="Total">How many.</param>
/// <param name="Free">How many no replica holds.</param>
/// <param name="Devices">Each device and its holder, where the runtime assigns devices itself (empty for CPU slots and cluster nodes).</param>
/// <param name="Holders">The replicas holding some, with how many and which.</param>
/// <param name="MemoryMiB">Memory of one device, when known.</param>
public sealed record AcceleratorPool(
    AcceleratorType? Type, int Total, int Free, IReadOnlyList<DeviceUse> Devices, IReadOnlyList<ReplicaHolding> Holders, long? MemoryMiB = null);

/// <summary>A device and the replica holding it, if any.</summary>
public sealed record DeviceUse(AcceleratorDevice Device, string? ReplicaId);

/// <summary>What one replica holds of a pool.</summary>
/// <param name="Account">Its account.</param>
/// <param name="DeploymentId">Its deployment.</param>
/// <param name="ReplicaId">The replica.</param>
/// <param name="Count">How many accelerators.</param>
/// <param name="Devices">Which devices, where known.</param>
public sealed record ReplicaHolding(string Account, string DeploymentId, string ReplicaId, int Count, IReadOnlyList<string> Devices);
