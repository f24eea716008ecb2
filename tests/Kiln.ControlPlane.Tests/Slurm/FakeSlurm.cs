using Kiln.Runtime.Slurm;

namespace Kiln.ControlPlane.Tests.Slurm;

/// <summary>
/// Stand-ins for Slurm's client commands (<c>sbatch</c>, <c>squeue</c>, <c>scancel</c>, <c>sinfo</c>),
/// small shell scripts in a folder of their own (<see cref="SlurmOptions.BinDir"/>) over a job table
/// in a text file, in <c>squeue</c>'s format: a test plays the scheduler by editing that table, and
/// reads what the runtime submitted and cancelled. No cluster needed.
/// </summary>
public sealed class FakeSlurm : IDisposable
{
    // sbatch: a PENDING job with the next ID; its arguments one a line, and the token it was given in its environment.
    private const string Sbatch = """
        #!/bin/bash
        d="$(dirname "$0")"
        [ -e "$d/sbatch.fail" ] && { echo "sbatch: error: Batch job submission failed: Invalid account or account/partition combination specified" >&2; exit 1; }
        id=$(cat "$d/next-id"); echo $((id + 1)) > "$d/next-id"
        name=""; comment=""
        for a in "$@"; do
          case "$a" in --job-name=*) name="${a#--job-name=}";; --comment=*) comment="${a#--comment=}";; esac
        done
        printf '%s\n' "$@" > "$d/sbatch.$id.args"
        printf '%s' "${KILN_MODEL_TOKEN-}" > "$d/sbatch.$id.token"
        echo "$id|PENDING|None||$name|$comment" >> "$d/jobs"
        echo "$id"
        """;

    // squeue: the whole table, or one job's state (--jobs=ID --format=%T); fails as slurmctld's absence does.
    private const string Squeue = """
        #!/bin/bash
        d="$(dirname "$0")"
        [ -e "$d/squeue.fail" ] && { echo "squeue: error: Unable to contact slurm controller (connect failure)" >&2; exit 1; }
        for a in "$@"; do
          case "$a" in --jobs=*) awk -F'|' -v id="${a#--jobs=}" '$1 == id { print $2 }' "$d/jobs"; exit 0;; esac
        done
        cat "$d/jobs"
        """;

    // scancel: --signal=TERM ends a running job as its drained replica's exit does (unless told to
    // ignore it), a plain scancel cancels; every call is logged.
    private const string Scancel = """
        #!/bin/bash
        d="$(dirname "$0")"
        echo "$*" >> "$d/scancel.log"
        id="${@: -1}"
        to=CANCELLED
        if [ "$1" = "--signal=TERM" ]; then
          [ -e "$d/ignore-term" ] && exit 0
          to=COMPLETED
        fi
        awk -F'|' -v OFS='|' -v id="$id" -v to="$to" \
          '$1 == id && $2 !~ /^(COMPLETED|CANCELLED|FAILED|TIMEOUT)/ { $2 = to; $3 = "None" } { print }' "$d/jobs" > "$d/jobs.$$" && mv "$d/jobs.$$" "$d/jobs"
        """;

    private const string Sinfo = """
        #!/bin/bash
        cat "$(dirname "$0")/nodes"
        """;

    private readonly string _root = Path.Combine(Path.GetTempPath(), "kiln-fake-slurm", Guid.NewGuid().ToString("N")[..12]);

    /// <summary>A cluster whose nodes are <paramref name="nodes"/>, in sinfo's <c>name|address|cpus|gres</c> lines.</summary>
    public FakeSlurm(string nodes = "node1|10.0.0.7|8|gpu:4")
    {
        Directory.CreateDirectory(BinDir);
        Directory.CreateDirectory(RunDir);
        foreach (var (name, text) in new[] { ("sbatch", Sbatch), ("squeue", Squeue), ("scancel", Scancel), ("sinfo", Sinfo) })
        {
            var path = Path.Combine(BinDir, name);
            File.WriteAllText(path, text.ReplaceLineEndings("\n") + "\n");
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        File.WriteAllText(Path.Combine(BinDir, "next-id"), "100\n");
        File.WriteAllText(Path.Combine(BinDir, "jobs"), "");
        File.WriteAllText(Path.Combine(BinDir, "nodes"), nodes + "\n");
    }

    /// <summary>Where the commands are.</summary>
    public string BinDir => Path.Combine(_root, "bin");

    /// <summary>The runtime's run folder (logs, endpoint files, the installation ID).</summary>
    public string RunDir => Path.Combine(_root, "run");

    /// <summary>The runtime's options on this cluster: partition <c>gpu</c>, commands from <see cref="BinDir"/>.</summary>
    public SlurmOptions Options => new() { RunDir = RunDir, BinDir = BinDir, Partition = "gpu", CommandTimeout = TimeSpan.FromSeconds(30) };

    /// <summary>Makes squeue fail as it does while slurmctld is down (or answer again).</summary>
    public bool ControllerDown
    {
        set => Flag("squeue.fail", value);
    }

    /// <summary>Makes running jobs ignore <c>scancel --signal=TERM</c>, as a replica stuck in a drain does.</summary>
    public bool IgnoreTerm
    {
        set => Flag("ignore-term", value);
    }

    /// <summary>Adds a job to the table, as one submitted earlier (by another server process) would be.</summary>
    public void AddJob(string id, string state, string node, string name, string? comment = null) =>
        Edit(lines => [.. lines, $"{id}|{state}|None|{node}|{name}|{comment ?? "(null)"}"]);

    /// <summary>Moves a job to <paramref name="state"/> (with Slurm's <paramref name="reason"/>, on <paramref name="node"/> when given).</summary>
    public void SetJob(string id, string state, string reason = "None", string? node = null) => Edit(lines => [.. lines.Select(l =>
    {
        var f = l.Split('|', 6);
        return f[0] == id ? string.Join('|', f[0], state, reason, node ?? f[3], f[4], f[5]) : l;
    })]);

    /// <summary>Drops a job from the table, as Slurm forgets it past <c>MinJobAge</c>.</summary>
    public void RemoveJob(string id) => Edit(lines => [.. lines.Where(l => l.Split('|')[0] != id)]);

    /// <summary>The state the table holds for a job, or null.</summary>
    public string? StateOf(string id) => Lines().Select(l => l.Split('|')).FirstOrDefault(f => f[0] == id)?[1];

    /// <summary>The arguments job <paramref name="id"/> was submitted with.</summary>
    public IReadOnlyList<string> SubmittedArgs(string id) => File.ReadAllLines(Path.Combine(BinDir, $"sbatch.{id}.args"));

    /// <summary>The <c>KILN_MODEL_TOKEN</c> sbatch ran with for job <paramref name="id"/> ("" when none).</summary>
    public string SubmittedToken(string id) => File.ReadAllText(Path.Combine(BinDir, $"sbatch.{id}.token"));

    /// <summary>Every scancel command line, oldest first.</summary>
    public IReadOnlyList<string> Cancels()
    {
        var log = Path.Combine(BinDir, "scancel.log");
        return File.Exists(log) ? File.ReadAllLines(log) : [];
    }

    private IEnumerable<string> Lines() => File.ReadAllLines(Path.Combine(BinDir, "jobs")).Where(l => l.Length > 0);

    // Replaced whole, as scancel does, so that squeue never reads half a table.
    private void Edit(Func<IEnumerable<string>, IEnumerable<string>> change)
    {
        var temp = Path.Combine(BinDir, "jobs.edit");
        File.WriteAllLines(temp, change(Lines()).ToList());
        File.Move(temp, Path.Combine(BinDir, "jobs"), overwrite: true);
    }

    private void Flag(string name, bool on)
    {
        var path = Path.Combine(BinDir, name);
        if (on)
        {
            File.WriteAllText(path, "");
        }
        else
        {
            File.Delete(path);
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
