namespace Kiln.Server.ControlPlane;

/// <summary>Timing of the reconciler, shortened by tests.</summary>
public sealed record ReconcilerOptions
{
    /// <summary>Time between passes when nothing wakes the loop earlier.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often a READY replica's health is probed; a starting replica is probed on every pass.
    /// Kept apart from the pass interval so a pass over many deployments probes only those due.
    /// </summary>
    public TimeSpan HealthCheckInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Between passes, how often the replicas the last pass saw starting are probed; one that turns
    /// ready (or fails) brings the next pass forward, so a wake from zero does not wait out <see cref="Interval"/>.
    /// </summary>
    public TimeSpan StartingProbeInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Deployments one pass reconciles at once (their health probes overlap).</summary>
    public int PassConcurrency { get; init; } = 16;

    /// <summary>How long a stopping replica may drain before it is killed.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a replica may take to become ready before it counts as failed.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Delay before the first restart of a failed replica; doubles with each further failure.</summary>
    public TimeSpan RestartBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest delay between restarts.</summary>
    public TimeSpan MaxRestartBackoff { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Replica starts that may fail in a row (never ready) before the deployment is FAILED.</summary>
    public int MaxReplicaFailures { get; init; } = Kiln.Core.Deployments.DeploymentLifecycle.DefaultMaxReplicaFailures;

    /// <summary>The limits the replica planner applies.</summary>
    public Kiln.Core.Replicas.ReplicaPlanOptions Plan => new()
    {
        StartTimeout = StartTimeout,
        RestartBackoff = RestartBackoff,
        MaxRestartBackoff = MaxRestartBackoff,
        MaxReplicaFailures = MaxReplicaFailures,
    };
}
