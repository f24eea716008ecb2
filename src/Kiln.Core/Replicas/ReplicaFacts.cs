using Kiln.Core.Deployments;

namespace Kiln.Core.Replicas;

/// <summary>What a reconcile pass knows of one replica: its stored record and what its process is doing.</summary>
public sealed record ReplicaFacts
{
    /// <summary>The replica's ID.</summary>
    public required string Id { get; init; }

    /// <summary>Its stored phase.</summary>
    public ReplicaPhase Phase { get; init; }

    /// <summary>The deployment generation whose spec it runs.</summary>
    public long Generation { get; init; }

    /// <summary>Consecutive failed starts.</summary>
    public int FailureCount { get; init; }

    /// <summary>Why it last failed.</summary>
    public string? LastError { get; init; }

    /// <summary>Why its process waits to be scheduled, as last recorded (a PENDING replica with a process).</summary>
    public string? WaitReason { get; init; }

    /// <summary>When its process was started (or its record created).</summary>
    public DateTimeOffset StartTime { get; init; }

    /// <summary>When its record was last written: a restart's backoff counts from here.</summary>
    public DateTimeOffset UpdateTime { get; init; }

    /// <summary>The runtime tracks a process for it.</summary>
    public bool HasProcess { get; init; }

    /// <summary>A stop of its process is under way in the background.</summary>
    public bool StopUnderWay { get; init; }

    /// <summary>Its process runs what the current spec asks for (accelerators, precision, model file).</summary>
    public bool RunsCurrentSpec { get; init; }

    /// <summary>
    /// What the pass saw of its process; only replicas <see cref="ReplicaPlanner.NeedsProbe"/> names
    /// are looked at, and a replica it names without an observation is left as it is.
    /// </summary>
    public ProcessObservation? Process { get; init; }

    /// <summary>How far it has fetched its model, while DOWNLOADING (from this pass's probe).</summary>
    public DownloadProgress? Download { get; init; }
}
