namespace Kiln.Runtime.Slurm;

/// <summary>Where a Slurm job state puts a replica.</summary>
public enum SlurmJobPhase
{
    /// <summary>Not running yet, or held: the replica waits to be scheduled.</summary>
    Waiting,
    /// <summary>Its process runs: a health probe tells starting from ready.</summary>
    Running,
    /// <summary>Ended (or ending): the replica failed and the reconciler replaces it.</summary>
    Ended,
}

/// <summary>The mapping of Slurm's job states onto replica phases, and how each is told to an operator.</summary>
public static class SlurmJobStates
{
    /// <summary>The phase of a job in <paramref name="state"/> (<c>squeue %T</c>, also with suffixes like <c>CANCELLED by 0</c>).</summary>
    public static SlurmJobPhase Phase(string state) => Base(state) switch
    {
        "PENDING" or "CONFIGURING" or "SUSPENDED" or "REQUEUED" or "REQUEUE_HOLD" or "REQUEUE_FED" or "RESV_DEL_HOLD" or "STOPPED" => SlurmJobPhase.Waiting,
        "COMPLETED" or "FAILED" or "CANCELLED" or "NODE_FAIL" or "PREEMPTED" or "TIMEOUT" or "OUT_OF_MEMORY"
            or "BOOT_FAIL" or "DEADLINE" or "SPECIAL_EXIT" or "REVOKED" => SlurmJobPhase.Ended,
        // RUNNING, SIGNALING, STAGE_OUT, RESIZING, COMPLETING (ending, but how is not known until it has
        // ended: CANCELLED, TIMEOUT, ...) and any state a later Slurm adds: the probe decides meanwhile.
        _ => SlurmJobPhase.Running,
    };

    /// <summary>Why a waiting job waits: "queued by Slurm (Resources)", or "queued by Slurm" when it gives no reason yet.</summary>
    public static string WaitReason(string state, string reason)
    {
        var what = Base(state) switch
        {
            "PENDING" => "queued by Slurm",
            "CONFIGURING" => "Slurm is configuring its node",
            "SUSPENDED" => "suspended by Slurm",
            "STOPPED" => "stopped by Slurm",
            var other => $"held by Slurm ({other})",
        };
        return reason is "" or "None" or "(null)" ? what : $"{what} ({reason})";
    }

    /// <summary>How an ended job ended: "Slurm job 12 TIMEOUT", "Slurm job 12 FAILED (NonZeroExitCode)".</summary>
    public static string Ending(string jobId, string state, string reason) =>
        reason is "" or "None" or "(null)" ? $"Slurm job {jobId} {Base(state)}" : $"Slurm job {jobId} {Base(state)} ({reason})";

    private static string Base(string state) => state.Split(' ', 2)[0].TrimEnd('+');
}
