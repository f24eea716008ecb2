using Kiln.Core.Deployments;

namespace Kiln.Core.Replicas;

/// <summary>The limits <see cref="ReplicaPlanner"/> applies to replicas' starts and restarts.</summary>
public sealed record ReplicaPlanOptions
{
    /// <summary>How long a replica may take to become ready before it counts as failed.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Delay before the first restart of a failed replica; doubles with each further failure.</summary>
    public TimeSpan RestartBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest delay between restarts.</summary>
    public TimeSpan MaxRestartBackoff { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Failed starts in a row after which a replica is no longer restarted (and, with none ready, the deployment is FAILED).</summary>
    public int MaxReplicaFailures { get; init; } = DeploymentLifecycle.DefaultMaxReplicaFailures;

    /// <summary>How long a replica that failed <paramref name="failures"/> times in a row waits before its restart.</summary>
    public TimeSpan Backoff(int failures)
    {
        var factor = Math.Pow(2, Math.Clamp(failures - 1, 0, 20));
        return TimeSpan.FromTicks((long)Math.Min(RestartBackoff.Ticks * factor, MaxRestartBackoff.Ticks));
    }
}
