namespace Kiln.Core.Replicas;

/// <summary>One step of a <see cref="ReplicaPlan"/>, carried out in order by the reconciler.</summary>
public abstract record ReplicaAction
{
    private ReplicaAction()
    {
    }

    /// <summary>Record the replica FAILED and say why in an event.</summary>
    /// <param name="ReplicaId">The replica.</param>
    /// <param name="FailureCount">Its new count of failures in a row.</param>
    /// <param name="LastError">Why it failed.</param>
    /// <param name="EventType">The event's type (ReplicaExited, ReplicaFailed, ReplicaTimedOut).</param>
    /// <param name="EventMessage">The event's message.</param>
    /// <param name="StopProcess">Its process still runs and must stop; the record stays FAILED so it restarts in place.</param>
    /// <param name="ForgetProcess">Its process exited: the runtime lets go of it.</param>
    public sealed record Fail(string ReplicaId, int FailureCount, string LastError, string EventType, string EventMessage, bool StopProcess, bool ForgetProcess) : ReplicaAction;

    /// <summary>Load the deployment's addons onto the replica (unless it is being deleted) and record it READY.</summary>
    /// <param name="ReplicaId">The replica.</param>
    public sealed record MarkReady(string ReplicaId) : ReplicaAction;

    /// <summary>A READY replica stopped answering health checks: record it INITIALIZING until it does again.</summary>
    /// <param name="ReplicaId">The replica.</param>
    /// <param name="Health">What its probe said.</param>
    public sealed record MarkUnhealthy(string ReplicaId, ProbeHealth Health) : ReplicaAction;

    /// <summary>An INITIALIZING replica is fetching its model file: record it DOWNLOADING.</summary>
    /// <param name="ReplicaId">The replica.</param>
    public sealed record MarkDownloading(string ReplicaId) : ReplicaAction;

    /// <summary>
    /// A DOWNLOADING replica has its model file and now loads it: record it INITIALIZING with its
    /// start time reset, so the start timeout bounds the load, not the download.
    /// </summary>
    /// <param name="ReplicaId">The replica.</param>
    public sealed record MarkDownloaded(string ReplicaId) : ReplicaAction;

    /// <summary>The replica's process waits in a cluster scheduler's queue: record it PENDING with the reason.</summary>
    /// <param name="ReplicaId">The replica.</param>
    /// <param name="Reason">Why it waits.</param>
    public sealed record MarkWaiting(string ReplicaId, string Reason) : ReplicaAction;

    /// <summary>A queued replica's process was scheduled and runs: record it INITIALIZING, its start timeout counting from now.</summary>
    /// <param name="ReplicaId">The replica.</param>
    public sealed record MarkRunning(string ReplicaId) : ReplicaAction;

    /// <summary>Stop the replica (draining it) and remove its record once its process is gone.</summary>
    /// <param name="ReplicaId">The replica.</param>
    /// <param name="Reason">Why, for its event.</param>
    public sealed record Stop(string ReplicaId, string Reason) : ReplicaAction;

    /// <summary>Remove the record of a replica that has no process (pending or failed on an older generation).</summary>
    /// <param name="ReplicaId">The replica.</param>
    public sealed record Remove(string ReplicaId) : ReplicaAction;

    /// <summary>Move a running replica onto the current generation: no change since its own needed a restart.</summary>
    /// <param name="ReplicaId">The replica.</param>
    /// <param name="Generation">The current generation.</param>
    public sealed record MoveForward(string ReplicaId, long Generation) : ReplicaAction;

    /// <summary>Create a PENDING replica record.</summary>
    /// <param name="ReplicaId">The new replica's ID.</param>
    /// <param name="Generation">The current generation.</param>
    public sealed record Create(string ReplicaId, long Generation) : ReplicaAction;

    /// <summary>Start the replica's process (a pending one, or a failed one whose backoff has passed).</summary>
    /// <param name="ReplicaId">The replica.</param>
    /// <param name="Generation">The current generation, which it runs.</param>
    public sealed record Start(string ReplicaId, long Generation) : ReplicaAction;

    /// <summary>The number of current replicas was changed to the desired count: say so in an event.</summary>
    /// <param name="DesiredReplicaCount">The count scaled to.</param>
    public sealed record Scaled(int DesiredReplicaCount) : ReplicaAction;
}
