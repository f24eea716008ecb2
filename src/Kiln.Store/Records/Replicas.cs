using Kiln.Core.Deployments;

namespace Kiln.Store;

/// <summary>
/// One replica of a deployment, with enough detail (pid, host, port) for a restarted control plane
/// to find and adopt the processes it left running.
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

    /// <summary>Operating-system process ID, once started.</summary>
    public int? Pid { get; init; }

    /// <summary>Port its HTTP surface listens on.</summary>
    public int? Port { get; init; }

    /// <summary>Host it runs on.</summary>
    public string? Host { get; init; }

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
