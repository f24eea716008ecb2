using Kiln.Core.Deployments;

namespace Kiln.Store;

/// <summary>
/// One replica of a deployment, with enough detail (runtime handle, host, port) for a restarted
/// control plane to find and adopt the processes it left running.
/// </summary>
public sealed record ReplicaRecord
{
    /// <summary>The owning account.</summary>
    public required string Account { get; init; }

    /// <summary>The deployment's ID.</summary>
    public required string DeploymentId { get; init; }

    /// <summary>The replica's ID within the deployment.</summary>
    public required string ReplicaId { get; init; }

    /// <summary>Where it is in its life.</summary>
    public ReplicaPhase Phase { get; init; }

    /// <summary>The deployment generation whose spec it runs.</summary>
    public long Generation { get; init; }

    /// <summary>
    /// The runtime's handle once started, as <see cref="Kiln.Core.Replicas.RuntimeHandle"/> writes it:
    /// <c>pid:1234</c> (a local process) or <c>slurm:5678</c> (a Slurm job).
    /// </summary>
    public string? RuntimeHandle { get; init; }

    /// <summary>Why its process waits in a cluster scheduler's queue (a PENDING replica that was submitted), or null.</summary>
    public string? WaitReason { get; init; }

    /// <summary>Port its HTTP surface listens on.</summary>
    public int? Port { get; init; }

    /// <summary>Host it runs on.</summary>
    public string? Host { get; init; }

    /// <summary>
    /// The devices its process was given (GPU UUIDs or indices, as in its <c>CUDA_VISIBLE_DEVICES</c>);
    /// empty for CPU slots and where a cluster scheduler assigns them.
    /// </summary>
    public IReadOnlyList<string> Devices { get; init; } = [];

    /// <summary>When it was started.</summary>
    public DateTimeOffset StartTime { get; init; }

    /// <summary>When it became ready (billing starts here).</summary>
    public DateTimeOffset? ReadyTime { get; init; }

    /// <summary>Consecutive failed starts.</summary>
    public int FailureCount { get; init; }

    /// <summary>Why it last failed.</summary>
    public string? LastError { get; init; }

    /// <summary>When the store last wrote it (set by the store).</summary>
    public DateTimeOffset UpdateTime { get; init; }
}
