namespace Kiln.Core.Replicas;

/// <summary>A health probe's verdict, as the runtime reports it.</summary>
public enum ProbeHealth
{
    /// <summary>Nothing answered (not listening yet, or hung).</summary>
    Unreachable,
    /// <summary>Answering, but still loading.</summary>
    Loading,
    /// <summary>Serving.</summary>
    Ready,
    /// <summary>Alive but unable to serve: its model failed to load.</summary>
    Failed,
    /// <summary>Answering, but still fetching its model file (progress alongside).</summary>
    Downloading,
}

/// <summary>What a pass saw of a replica's process before planning.</summary>
public abstract record ProcessObservation
{
    private ProcessObservation()
    {
    }

    /// <summary>The process is gone (or no longer tracked).</summary>
    /// <param name="How">How it ended, e.g. "code 1" or "signal 9 (SIGKILL)".</param>
    /// <param name="LastLine">Its last error line, or why it is not tracked, if known.</param>
    public sealed record Exited(string How, string? LastLine) : ProcessObservation;

    /// <summary>The process runs and answered (or not) a health probe.</summary>
    /// <param name="Health">The probe's verdict.</param>
    /// <param name="Error">Why it failed, when it did.</param>
    /// <param name="Download">How far it has fetched its model, while downloading.</param>
    public sealed record Probed(ProbeHealth Health, string? Error = null, DownloadProgress? Download = null) : ProcessObservation;

    /// <summary>
    /// The runtime accepted the replica but has not started its process yet: a cluster scheduler
    /// holds it in its queue (Slurm's PENDING). It is neither failed nor late.
    /// </summary>
    /// <param name="Reason">Why it waits, as the scheduler says, e.g. "queued by Slurm (Resources)".</param>
    public sealed record Waiting(string Reason) : ProcessObservation;
}
