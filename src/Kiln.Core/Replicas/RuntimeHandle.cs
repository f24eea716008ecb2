using System.Globalization;

namespace Kiln.Core.Replicas;

/// <summary>What kind of thing a runtime runs a replica as.</summary>
public enum RuntimeHandleKind
{
    /// <summary>A process on the control plane's machine, by its process ID.</summary>
    Process,
    /// <summary>A Slurm batch job, by its job ID.</summary>
    SlurmJob,
}

/// <summary>
/// How a runtime finds a replica again: a process ID for the local runtime, a job ID for Slurm.
/// Stored as text, <c>pid:1234</c> or <c>slurm:5678</c>, so that a runtime never mistakes another
/// runtime's handle for its own (after a server restart with another <c>--runtime</c>, say).
/// </summary>
/// <param name="Kind">Process or Slurm job.</param>
/// <param name="Id">The process or job ID.</param>
public sealed record RuntimeHandle(RuntimeHandleKind Kind, string Id)
{
    private const string PidPrefix = "pid:";
    private const string SlurmPrefix = "slurm:";

    /// <summary>A local process.</summary>
    public static RuntimeHandle Process(int pid) => new(RuntimeHandleKind.Process, pid.ToString(CultureInfo.InvariantCulture));

    /// <summary>A Slurm job.</summary>
    public static RuntimeHandle SlurmJob(string jobId) => new(RuntimeHandleKind.SlurmJob, jobId);

    /// <summary>The process ID, for a process handle.</summary>
    public int? Pid => Kind == RuntimeHandleKind.Process && int.TryParse(Id, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;

    /// <summary>The Slurm job ID, for a job handle.</summary>
    public string? SlurmJobId => Kind == RuntimeHandleKind.SlurmJob ? Id : null;

    /// <summary>"pid 1234" or "Slurm job 5678", for events and logs.</summary>
    public string Describe() => Kind == RuntimeHandleKind.Process ? $"pid {Id}" : $"Slurm job {Id}";

    /// <summary>The stored form: <c>pid:1234</c> or <c>slurm:5678</c>.</summary>
    public override string ToString() => (Kind == RuntimeHandleKind.Process ? PidPrefix : SlurmPrefix) + Id;

    /// <summary>Reads <see cref="ToString"/>'s form; null for null, empty or anything else.</summary>
    public static RuntimeHandle? Parse(string? text)
    {
        if (text is null)
        {
            return null;
        }
        if (text.StartsWith(PidPrefix, StringComparison.Ordinal)
            && int.TryParse(text.AsSpan(PidPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 0)
        {
            return Process(pid);
        }
        return text.StartsWith(SlurmPrefix, StringComparison.Ordinal) && text.Length > SlurmPrefix.Length
            && text.AsSpan(SlurmPrefix.Length).ContainsAnyExcept("0123456789_") is false
            ? SlurmJob(text[SlurmPrefix.Length..])
            : null;
    }
}
