namespace Kiln.Core.Replicas;

/// <summary>One deployment as a reconcile pass sees it: the snapshot <see cref="ReplicaPlanner.Plan"/> decides on.</summary>
public sealed record ReplicaPlanInput
{
    /// <summary>The spec generation (bumped on every spec change).</summary>
    public long Generation { get; init; } = 1;

    /// <summary>The generation of the last spec change that needed new replicas; older replicas are replaced, not moved forward.</summary>
    public long RestartGeneration { get; init; } = 1;

    /// <summary>Replicas the autoscaler wants now.</summary>
    public int DesiredReplicaCount { get; init; }

    /// <summary>True once deletion was requested: every replica stops and none starts.</summary>
    public bool DeleteRequested { get; init; }

    /// <summary>Why no replica can start at all (the model file is missing, say), or null.</summary>
    public string? FatalError { get; init; }

    /// <summary>Every replica record of the deployment, with what its process is doing.</summary>
    public IReadOnlyList<ReplicaFacts> Replicas { get; init; } = [];

    /// <summary>The accelerator slots the replicas may start on.</summary>
    public SlotFacts Slots { get; init; } = new(0, 0, 1, "CPU slot");

    /// <summary>The pass's clock time.</summary>
    public DateTimeOffset Now { get; init; }
}

/// <summary>Accelerator slots: how many are free now, how many exist, and how many one replica takes.</summary>
/// <param name="Free">Slots no process holds.</param>
/// <param name="Total">Slots of the machine.</param>
/// <param name="PerReplica">Slots one replica of the deployment holds.</param>
/// <param name="Unit">What a slot is called in messages ("GPU", "CPU slot").</param>
/// <param name="LargestNode">
/// On a cluster whose scheduler queues replicas: the most slots one node holds. A replica larger
/// than that never runs; any other is handed to the scheduler, free slots or not.
/// </param>
public sealed record SlotFacts(int Free, int Total, int PerReplica, string Unit, int? LargestNode = null)
{
    /// <summary>A cluster's slots: its scheduler queues replicas, so only the largest node limits them.</summary>
    public static SlotFacts Cluster(int largestNode, int perReplica, string unit) => new(int.MaxValue, largestNode, perReplica, unit, largestNode);
}
