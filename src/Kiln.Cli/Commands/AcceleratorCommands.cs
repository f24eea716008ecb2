using System.CommandLine;
using Kiln.Cli.Api;
using Kiln.Cli.Formatting;

namespace Kiln.Cli.Commands;

/// <summary><c>list accelerators</c>: what the server's nodes hold and who uses it.</summary>
public static class AcceleratorCommands
{
    public static Command List(CliApp app)
    {
        var command = CliApp.Noun("accelerators", "accelerator", "List the accelerators replicas run on: per node, type, count, memory, free, and which replicas hold which devices");
        app.SetAction(command, async (ctx, ct) =>
        {
            var inventory = await ctx.Client.GetAsync(ApiPaths.Accelerators, ct);
            CliApp.Print(ctx, inventory, () => AcceleratorText.Render(inventory));
        });
        return command;
    }
}
