namespace Kiln.Runtime.Slurm;

/// <summary>One job as <c>squeue</c> lists it.</summary>
/// <param name="Id">The job ID.</param>
/// <param name="State">Its state in full, e.g. <c>PENDING</c>, <c>RUNNING</c>, <c>TIMEOUT</c>.</param>
/// <param name="Reason">Why it waits or ended (<c>Resources</c>, <c>Priority</c>, <c>NonZeroExitCode</c>), or "None".</param>
/// <param name="Node">The node it runs on, or empty while it waits.</param>
/// <param name="Name">The job name.</param>
/// <param name="Comment">The job comment, or null.</param>
public sealed record SlurmJob(string Id, string State, string Reason, string Node, string Name, string? Comment);

/// <summary>The <c>squeue</c> output format Kiln asks for, and its parser.</summary>
public static class SqueueFormat
{
    /// <summary>
    /// Every job of the calling user that Slurm still remembers, finished ones included (for how
    /// they ended): ID, state, reason, node, name, comment. The comment may hold anything, so it comes last.
    /// </summary>
    public static IReadOnlyList<string> Arguments { get; } = ["--me", "--noheader", "--states=all", "--format=%i|%T|%r|%N|%j|%k"];

    /// <summary>Parses <c>squeue</c>'s output in <see cref="Arguments"/>'s format; malformed lines are skipped.</summary>
    public static IReadOnlyList<SlurmJob> Parse(string output)
    {
        var jobs = new List<SlurmJob>();
        foreach (var raw in output.Split('\n'))
        {
            var fields = raw.TrimEnd('\r').Split('|', 6);
            if (fields.Length < 6 || fields[0].Trim().Length == 0 || fields[1].Trim().Length == 0)
            {
                continue;
            }
            var comment = fields[5].Trim();
            jobs.Add(new SlurmJob(fields[0].Trim(), fields[1].Trim(), fields[2].Trim(), fields[3].Trim(), fields[4].Trim(),
                comment is "" or "(null)" ? null : comment));
        }
        return jobs;
    }
}
