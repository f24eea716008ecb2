using System.CommandLine;
using Kiln.Runtime.Slurm;
using Kiln.Server.Hosting;

namespace Kiln.Server.Commands;

/// <summary><c>kiln server</c>'s runtime choice and the Slurm runtime's flags, with their checks.</summary>
internal sealed class SlurmFlags
{
    private readonly Option<string> _runtime = new("--runtime")
    {
        Description = "Where replicas run: local (child processes of this server) or slurm (batch jobs on a Slurm cluster)",
        DefaultValueFactory = _ => "local",
    };

    private readonly Option<string?> _partition = new("--slurm-partition") { Description = "Slurm partition replicas run in (default: the cluster's default)" };
    private readonly Option<string?> _account = new("--slurm-account") { Description = "Slurm account replicas are charged to (default: the user's default)" };

    private readonly Option<string?> _extraArgs = new("--slurm-extra-args")
    {
        Description = "More sbatch arguments for every replica, separated by spaces, e.g. \"--qos=serving --time=7-0\"",
    };

    private readonly Option<string?> _runDir = new("--slurm-run-dir")
    {
        Description = "Folder for replica logs and endpoint files; every node must mount it at this path (default: <data-dir>/slurm)",
    };

    private readonly Option<string?> _binDir = new("--slurm-bin-dir")
    {
        Description = "Folder holding Slurm's client commands (sbatch, squeue, scancel, sinfo) (default: found on PATH)",
    };

    public SlurmFlags()
    {
        _runtime.Validators.Add(r =>
        {
            var value = r.GetValueOrDefault<string>();
            if (value is not ("local" or "slurm"))
            {
                r.AddError($"--runtime: must be local or slurm, got '{value}'");
            }
        });
        foreach (var option in new[] { _partition, _account, _runDir, _binDir })
        {
            option.Validators.Add(r =>
            {
                var value = r.GetValueOrDefault<string?>();
                if (value is not null && (value.Trim().Length == 0 || value.Any(char.IsWhiteSpace)))
                {
                    r.AddError($"{option.Name}: must be a single non-empty word, got '{value}'");
                }
            });
        }
        _extraArgs.Validators.Add(r =>
        {
            if (ExtraArgsError(r.GetValueOrDefault<string?>()) is { } error)
            {
                r.AddError($"--slurm-extra-args: {error}");
            }
        });
    }

    /// <summary>Adds the flags to <paramref name="command"/>; the Slurm ones are checked to need <c>--runtime slurm</c>.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(_runtime);
        command.Options.Add(_partition);
        command.Options.Add(_account);
        command.Options.Add(_extraArgs);
        command.Options.Add(_runDir);
        command.Options.Add(_binDir);
        command.Validators.Add(r =>
        {
            if (r.GetValue(_runtime) == "slurm")
            {
                return;
            }
            foreach (var option in new[] { _partition, _account, _extraArgs, _runDir, _binDir })
            {
                if (r.GetResult(option) is { Implicit: false })
                {
                    r.AddError($"{option.Name}: only applies with --runtime slurm");
                }
            }
        });
    }

    public RuntimeKind Runtime(ParseResult r) => r.GetValue(_runtime) == "slurm" ? RuntimeKind.Slurm : RuntimeKind.Local;

    public SlurmOptions? Options(ParseResult r, string dataDir) => Runtime(r) != RuntimeKind.Slurm
        ? null
        : new SlurmOptions
        {
            RunDir = Path.GetFullPath(r.GetValue(_runDir) ?? Path.Combine(dataDir, "slurm")),
            Partition = r.GetValue(_partition),
            Account = r.GetValue(_account),
            ExtraArgs = Split(r.GetValue(_extraArgs)),
            BinDir = r.GetValue(_binDir) is { } bin ? Path.GetFullPath(bin) : null,
        };

    private static string[] Split(string? text) => text?.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];

    private static string? ExtraArgsError(string? text)
    {
        var args = Split(text);
        if (text is not null && args.Length == 0)
        {
            return "must not be empty";
        }
        if (args.Length > 0 && !args[0].StartsWith('-'))
        {
            return $"must start with an sbatch option, got '{args[0]}'";
        }
        return args.Select(SbatchArguments.ReservedIn).FirstOrDefault(r => r is not null) is { } reserved
            ? $"{reserved} is set by Kiln for each replica and cannot be given"
            : null;
    }
}
