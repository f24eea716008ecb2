using System.CommandLine;
using Kiln.Cli.Api;
using Kiln.Cli.Formatting;

namespace Kiln.Cli.Commands;

/// <summary><c>list engines</c>: the engine profiles a deployment may name with <c>--engine</c>.</summary>
public static class EngineCommands
{
    public static Command List(CliApp app)
    {
        var command = CliApp.Noun("engines", "engine", "List the engines deployments may run on (--engine): the model formats each serves, addons, speculation and its command");
        app.SetAction(command, async (ctx, ct) =>
        {
            var engines = await ctx.Client.GetAsync(ApiPaths.Engines, ct);
            CliApp.Print(ctx, engines, () => EngineText.RenderTable(engines));
        });
        return command;
    }
}
