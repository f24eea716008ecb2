using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Kiln.Tests.Shared;

/// <summary>
/// The one-node Slurm cluster of <c>scripts/slurm-up.sh</c>, for tests that run replicas as Slurm jobs:
/// brings it up once per test process (leaving one that is already up as it is), and drives it as an
/// operator would (squeue, scancel, scontrol, a slurmctld restart).
/// </summary>
public static partial class SlurmCluster
{
    private static readonly Lazy<Task> Up = new(() => UpAsync());

    /// <summary>Why the cluster cannot be started here (not root, Slurm not installed), or null.</summary>
    public static string? Missing()
    {
        if (Environment.UserName != "root")
            return "Slurm tests start slurmctld and slurmd and need root";
        string[] programs = ["sbatch", "squeue", "scancel", "scontrol", "sinfo", "slurmctld", "slurmd", "munged"];
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "") + ":/usr/sbin:/sbin";
        var missing = programs.Where(p => !path.Split(':').Any(d => File.Exists(Path.Combine(d, p)))).ToList();
        if (missing.Count > 0)
            return $"Slurm is not installed ({string.Join(", ", missing)} missing; Debian: apt-get install munge slurmctld slurmd slurm-client; .ci/run installs them)";
        return Script("slurm-up.sh") is null ? "scripts/slurm-up.sh not found beside the tests" : null;
    }

    /// <summary>Brings the cluster up (once per process); throws with the script's output when it cannot.</summary>
    public static Task EnsureUpAsync() => Up.Value;

    /// <summary>The jobs whose name starts with <paramref name="prefix"/>: (job ID, state, name), finished ones included.</summary>
    public static async Task<IReadOnlyList<(string Id, string State, string Name)>> JobsAsync(string prefix)
    {
        var output = await RunAsync("squeue", "--noheader", "--states=all", "--format=%i|%T|%j");
        return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('|'))
            .Where(f => f.Length == 3 && f[2].StartsWith(prefix, StringComparison.Ordinal))
            .Select(f => (f[0], f[1], f[2]))];
    }

    /// <summary>The live (pending or running) jobs named with <paramref name="prefix"/>.</summary>
    public static async Task<IReadOnlyList<(string Id, string State, string Name)>> LiveJobsAsync(string prefix) =>
        [.. (await JobsAsync(prefix)).Where(j => j.State is "PENDING" or "RUNNING" or "CONFIGURING")];

    /// <summary>The GPU indices Slurm gave a job (<c>scontrol show job -d</c>, <c>GRES=gpu:2(IDX:0-1)</c>), e.g. [0, 1].</summary>
    public static async Task<IReadOnlyList<int>> GpuIndicesAsync(string jobId)
    {
        var text = await RunAsync("scontrol", "show", "job", "-d", jobId);
        var idx = IdxPattern().Match(text);
        if (!idx.Success) return [];
        return [.. idx.Groups[1].Value.Split(',').SelectMany(part =>
        {
            var range = part.Split('-');
            var from = int.Parse(range[0], System.Globalization.CultureInfo.InvariantCulture);
            var to = range.Length > 1 ? int.Parse(range[1], System.Globalization.CultureInfo.InvariantCulture) : from;
            return Enumerable.Range(from, to - from + 1);
        })];
    }

    /// <summary>The GPUs of the cluster's first node (sinfo's gres).</summary>
    public static async Task<int> NodeGpusAsync()
    {
        var gres = (await RunAsync("sinfo", "--noheader", "--Node", "--format=%G")).Split('\n')[0].Trim();
        var count = gres.Split('(')[0].Split(':');
        return count[0] == "gpu" && int.TryParse(count[^1], System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : 0;
    }

    /// <summary>scancel, as an operator would.</summary>
    public static Task CancelAsync(string jobId) => RunAsync("scancel", jobId);

    /// <summary>Cancels every job named with <paramref name="prefix"/> (test cleanup); never throws.</summary>
    public static async Task CancelAllAsync(string prefix)
    {
        try
        {
            foreach (var job in await LiveJobsAsync(prefix)) await RunAsync("scancel", job.Id);
        }
        catch (InvalidOperationException)
        {
        }
    }

    /// <summary>
    /// Stops slurmctld as a service restart does (SIGTERM: it saves its state on the way out) and
    /// starts it again (that state brings every job back), then waits until it answers. SIGKILL would
    /// lose the jobs of the last seconds, whose state slurmctld saves in batches: the restarted
    /// controller would hand their IDs out again and drain the node for a duplicate job ID.
    /// </summary>
    public static async Task RestartControllerAsync()
    {
        var pid = int.Parse((await File.ReadAllTextAsync("/run/slurm/slurmctld.pid")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        await RunAsync("kill", "-TERM", pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (IsRunning(pid))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("slurmctld did not stop");
            await Task.Delay(100);
        }
        await RunAsync("slurmctld");
        while (true)
        {
            try
            {
                await RunAsync("squeue", "--noheader");
                return;
            }
            catch (InvalidOperationException) when (DateTime.UtcNow < deadline + TimeSpan.FromSeconds(30))
            {
                await Task.Delay(200);
            }
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[stat.LastIndexOf(')') + 2] is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static async Task UpAsync()
    {
        var script = Script("slurm-up.sh") ?? throw new InvalidOperationException("scripts/slurm-up.sh not found");
        var (code, output) = await RunRawAsync("/bin/bash", script);
        if (code != 0) throw new InvalidOperationException($"scripts/slurm-up.sh failed with exit code {code}:\n{output}");
    }

    private static string? Script(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "scripts", name);
            if (File.Exists(Path.Combine(dir.FullName, "Kiln.sln")) && File.Exists(candidate)) return candidate;
        }
        return null;
    }

    private static async Task<string> RunAsync(string program, params string[] args)
    {
        var (code, output) = await RunRawAsync(program, args);
        return code == 0 ? output : throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed ({code}): {output}");
    }

    private static async Task<(int Code, string Output)> RunRawAsync(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(cts.Token);
        return (p.ExitCode, await stdout + await stderr);
    }

    [GeneratedRegex(@"GRES=gpu(?::[^:(\s]+)?:\d+\(IDX:([0-9,\-]+)\)")]
    private static partial Regex IdxPattern();
}

/// <summary>
/// A fact that runs replicas as Slurm jobs on the shared models. Skipped with a clear message where
/// the cluster cannot be started (not root, Slurm not installed) outside CI; under CI (<c>CI</c> set),
/// where .ci/run installs Slurm, it runs and fails instead.
/// </summary>
public sealed class SlurmFactAttribute : FactAttribute
{
    public SlurmFactAttribute()
    {
        if (SharedFiles.Root is null) Skip = SharedFiles.MissingMessage;
        else if (SlurmCluster.Missing() is { } why && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"))) Skip = why;
    }
}
