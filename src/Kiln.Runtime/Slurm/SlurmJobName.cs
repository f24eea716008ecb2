namespace Kiln.Runtime.Slurm;

/// <summary>
/// A replica's job name, <c>&lt;prefix&gt;.&lt;account&gt;.&lt;deployment&gt;.&lt;replica&gt;</c>: it says whose
/// replica a job is in <c>squeue</c>, and lets a restarted server find its jobs again. The prefix
/// names one Kiln installation, so that two on one cluster never take each other's jobs.
/// </summary>
public static class SlurmJobName
{
    /// <summary>The job name of <paramref name="replica"/>.</summary>
    public static string Format(string prefix, ReplicaRef replica) => $"{prefix}.{replica.Account}.{replica.DeploymentId}.{replica.ReplicaId}";

    /// <summary>The replica a job of this installation belongs to, or null for any other job.</summary>
    public static ReplicaRef? Parse(string prefix, string name)
    {
        if (!name.StartsWith(prefix + ".", StringComparison.Ordinal))
        {
            return null;
        }
        // Resource IDs hold no dots, so the three remaining parts are unambiguous.
        var parts = name[(prefix.Length + 1)..].Split('.');
        return parts.Length == 3 && parts.All(p => p.Length > 0) ? new ReplicaRef(parts[0], parts[1], parts[2]) : null;
    }
}
