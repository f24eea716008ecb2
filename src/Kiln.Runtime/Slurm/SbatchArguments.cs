using Kiln.Core.Deployments;
using Kiln.Core.Replicas;
using Kiln.Runtime.Local;

namespace Kiln.Runtime.Slurm;

/// <summary>The <c>sbatch</c> command line that submits one replica.</summary>
public static class SbatchArguments
{
    /// <summary>Options Kiln sets itself, which <see cref="SlurmOptions.ExtraArgs"/> may not override.</summary>
    public static IReadOnlyList<string> Reserved { get; } =
        ["--wrap", "--parsable", "-J", "--job-name", "-o", "--output", "-e", "--error", "--open-mode", "--comment", "-a", "--array", "--requeue", "--no-requeue", "-D", "--chdir"];

    /// <summary>The reserved option an extra argument would set, or null when it is allowed.</summary>
    public static string? ReservedIn(string arg)
    {
        var name = arg.Split('=', 2)[0];
        // Short options take their value attached too (-Jname, -ofile).
        return Reserved.FirstOrDefault(r => name == r || (r.Length == 2 && name.StartsWith(r, StringComparison.Ordinal) && !name.StartsWith("--", StringComparison.Ordinal)));
    }

    /// <summary>
    /// <c>sbatch --parsable --no-requeue -J &lt;name&gt; ...</c>: GPUs as <c>--gres=gpu:N</c> (Slurm sets
    /// <c>CUDA_VISIBLE_DEVICES</c>) or CPUs as <c>--cpus-per-task=N</c>, one task on one node, output
    /// appended to <paramref name="logPath"/>, and a <c>--wrap</c> script that <c>exec</c>s the replica
    /// in the foreground: Slurm tracks and signals the job's own process, and loses one that forks away.
    /// The replica binds port 0 and writes where it listens to <paramref name="endpointPrefix"/> + the job ID.
    /// A downloading replica's token is not among them: it travels in sbatch's environment (<see cref="Environment"/>).
    /// <paramref name="gresType"/> asks for GPUs of that gres type (<c>--gres=gpu:h100:N</c>).
    /// </summary>
    /// <summary>The <c>kiln</c> verb that runs another engine on a port it picks on the node.</summary>
    public const string EngineExec = "engine-exec";

    public static IReadOnlyList<string> Build(
        SlurmOptions options, ReplicaCommand command, ReplicaLaunch launch, string jobName, string logPath, string endpointPrefix, string? gresType = null)
    {
        if (launch.Engine is { } e && launch.Download is not null)
        {
            // The node cache holds one GGUF file per digest; an engine's model may be a folder.
            throw new InvalidOperationException(
                $"engine {e.Name} on the Slurm runtime reads its model from a path every node mounts: start the server with --model-distribution shared --model-share DIR; only Kiln's own replicas download into the node cache");
        }
        var args = new List<string> { "--parsable", "--no-requeue", $"--job-name={jobName}", "--nodes=1", "--ntasks=1" };
        args.Add(launch.AcceleratorType == AcceleratorType.Cpu ? $"--cpus-per-task={launch.WorldSize}"
            : gresType is null ? $"--gres=gpu:{launch.WorldSize}" : $"--gres=gpu:{gresType}:{launch.WorldSize}");
        if (options.Partition is { } partition)
        {
            args.Add($"--partition={partition}");
        }
        if (options.Account is { } account)
        {
            args.Add($"--account={account}");
        }
        args.AddRange([$"--output={logPath}", "--open-mode=append", $"--chdir={options.RunDir}",
            $"--comment={JobComment.Format(launch.ModelPath, launch.WorldSize, launch.Precision, launch.Engine)}"]);
        args.AddRange(options.ExtraArgs);
        var words = new List<string> { ShellWords.Quote(command.FileName) };
        words.AddRange(command.PrefixArguments.Select(ShellWords.Quote));
        // The endpoint file is named for the job, so a restarted replica never reads its predecessor's.
        var endpointFile = ShellWords.Quote(endpointPrefix) + "\"$SLURM_JOB_ID\"";
        if (launch.Engine is { } engine)
        {
            // The engine's port is picked on the node: kiln engine-exec fills {port} and reports it.
            words.AddRange(new[] { EngineExec, ReplicaArgs.Flags.EndpointFile }.Select(ShellWords.Quote));
            words.Add(endpointFile);
            words.AddRange(new[] { "--host", options.ReplicaBindHost, "--" }.Concat(launch.EngineCommandLine(options.ReplicaBindHost)).Select(ShellWords.Quote));
            if (engine.Environment.Count > 0)
            {
                // sbatch exports the submitter's environment; the profile's variables go before the command.
                words.InsertRange(0, ["env", .. engine.Environment.Select(kv => ShellWords.Quote($"{kv.Key}={kv.Value}"))]);
            }
        }
        else
        {
            words.AddRange(launch.Args(options.ReplicaBindHost, 0).Format().Select(ShellWords.Quote));
            words.Add(ShellWords.Quote(ReplicaArgs.Flags.EndpointFile));
            words.Add(endpointFile);
        }
        args.Add("--wrap=exec " + string.Join(' ', words));
        return args;
    }

    /// <summary>
    /// The variables <c>sbatch</c> runs with beyond the server's own, which it exports into the job:
    /// a downloading replica's bearer token (<see cref="ReplicaArgs.ModelTokenVariable"/>), a secret
    /// that must stay out of the job's command line and script, which other users of the cluster can read.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Environment(ReplicaLaunch launch) => launch.Download is { } download
        ? new Dictionary<string, string> { [ReplicaArgs.ModelTokenVariable] = download.Token }
        : new Dictionary<string, string>();

    /// <summary>The job ID in <c>sbatch --parsable</c>'s output (<c>1234</c> or <c>1234;cluster</c>), or null.</summary>
    public static string? JobId(string output)
    {
        var id = output.Trim().Split(';')[0].Trim();
        return id.Length > 0 && id.All(c => char.IsAsciiDigit(c) || c == '_') ? id : null;
    }
}
