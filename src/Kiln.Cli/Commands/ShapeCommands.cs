using System.Text.Json.Nodes;
using Kiln.Cli.Api;
using Kiln.Cli.Formatting;
using Kiln.Core.Shapes;

namespace Kiln.Cli.Commands;

/// <summary>
/// <c>get deployment-shape-version</c>, <c>list deployment-shape-versions</c> and
/// <c>deployment-shape-version match</c>: the presets <c>create deployment --deployment-shape</c> takes.
/// </summary>
public static class ShapeCommands
{
    public static System.CommandLine.Command Get(CliApp app)
    {
        var command = CliApp.Noun("deployment-shape-version", "deployment-shape-versions", "Show a deployment shape version (a shape name shows its latest)");
        var name = new System.CommandLine.Argument<string>("NAME")
        {
            Description = "A shape ID (cpu-minimal), accounts/A/deploymentShapes/S, or accounts/A/deploymentShapes/S/versions/V",
        };
        command.Arguments.Add(name);
        app.SetAction(command, async (ctx, ct) =>
        {
            var text = ctx.Get(name);
            if (!ShapeName.TryParse(text, out var shape, out var error))
                throw new UsageException($"NAME: {error}");
            JsonObject version = await ctx.Client.GetAsync(
                ApiPaths.ShapeVersion(shape.Account ?? ShapeName.BuiltInAccount, shape.ShapeId, shape.VersionId ?? ShapeName.Latest), ct);
            CliApp.Print(ctx, version, () => ShapeText.Render(version));
        });
        return command;
    }

    public static System.CommandLine.Command List(CliApp app)
    {
        var command = CliApp.Noun("deployment-shape-versions", "deployment-shape-version", "List deployment shape versions");
        var baseModel = new System.CommandLine.Option<string?>("--base-model")
        {
            Description = "Only versions that can serve this model (an ID or accounts/A/models/M)",
            HelpName = "MODEL",
        };
        command.Options.Add(baseModel);
        app.SetAction(command, (ctx, ct) => ListAsync(ctx, ctx.Get(baseModel), ct));
        return command;
    }

    /// <summary><c>deployment-shape-version match MODEL</c> (firectl's form) and <c>match deployment-shape-versions MODEL</c>.</summary>
    public static IEnumerable<System.CommandLine.Command> Match(CliApp app)
    {
        System.CommandLine.Command Matcher(string name, string description)
        {
            var command = new System.CommandLine.Command(name, description);
            var model = new System.CommandLine.Argument<string>("MODEL") { Description = "The model (an ID or accounts/A/models/M)" };
            command.Arguments.Add(model);
            app.SetAction(command, (ctx, ct) => ListAsync(ctx, ctx.Get(model), ct));
            return command;
        }
        var noun = new System.CommandLine.Command("deployment-shape-version", "Deployment shape versions");
        noun.Subcommands.Add(Matcher("match", "List the deployment shape versions that can serve a model"));
        var verb = new System.CommandLine.Command("match", "Find what fits a resource");
        var versions = Matcher("deployment-shape-versions", "List the deployment shape versions that can serve a model");
        versions.Aliases.Add("deployment-shape-version");
        verb.Subcommands.Add(versions);
        return [noun, verb];
    }

    private static async Task ListAsync(CommandContext ctx, string? baseModel, CancellationToken ct)
    {
        if (baseModel is { Length: 0 })
            throw new UsageException("--base-model: give a model ID or accounts/A/models/M");
        var query = baseModel is { } m ? $"?baseModel={Uri.EscapeDataString(m)}" : "";
        var result = await ctx.Client.GetAsync(ApiPaths.ShapeVersions(ShapeName.BuiltInAccount, "-") + query, ct);
        CliApp.Print(ctx, result, () => ShapeText.RenderTable(Json.Objects(result, "deploymentShapeVersions")));
    }
}
