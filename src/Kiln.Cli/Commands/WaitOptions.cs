using System.CommandLine;

namespace Kiln.Cli.Commands;

/// <summary>--wait and --wait-timeout; the timeout alone also waits, rather than being ignored.</summary>
public sealed class WaitOptions
{
    public Option<bool> Wait { get; }
    public Option<string> Timeout { get; } = new("--wait-timeout")
    {
        Description = $"Give up waiting after this long (Go duration; 0 waits forever)",
        HelpName = "DURATION",
        DefaultValueFactory = _ => DeploymentCommands.DefaultWaitTimeout,
    };

    public WaitOptions(Command command, string waitDescription)
    {
        Wait = new Option<bool>("--wait") { Description = waitDescription };
        command.Options.Add(Wait);
        command.Options.Add(Timeout);
    }

    /// <summary>The timeout in nanoseconds when waiting was asked for, else null. Validated before any request.</summary>
    public long? Read(CommandContext ctx)
    {
        var timeout = FlagValues.Duration("--wait-timeout", ctx.Get(Timeout) ?? DeploymentCommands.DefaultWaitTimeout);
        return ctx.Get(Wait) || ctx.Given(Timeout) ? timeout : null;
    }
}
