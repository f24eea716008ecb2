using System.Text.Json.Nodes;
using Kiln.Cli.Api;
using Kiln.Cli.Formatting;

namespace Kiln.Cli.Commands;

/// <summary><c>list catalog</c> and <c>get catalog</c>: the well-known models <c>import model</c> fetches by ID.</summary>
public static class CatalogCommands
{
    public static System.CommandLine.Command List(CliApp app)
    {
        var command = CliApp.Noun("catalog", "catalogs", "List the model catalog: well-known GGUF models to import by ID");
        var name = new System.CommandLine.Option<string?>("--name") { Description = "Only models whose ID or name contains this text", HelpName = "TEXT" };
        command.Options.Add(name);
        app.SetAction(command, async (ctx, ct) =>
        {
            var query = ctx.Get(name) is { Length: > 0 } text ? $"?name={Uri.EscapeDataString(text)}" : "";
            var result = await ctx.Client.GetAsync(ApiPaths.Catalog + query, ct);
            CliApp.Print(ctx, result, () => CatalogText.RenderTable(Json.Objects(result, "models")));
        });
        return command;
    }

    public static System.CommandLine.Command Get(CliApp app)
    {
        var command = CliApp.Noun("catalog", "catalogs", "Show one catalog model");
        var id = new System.CommandLine.Argument<string>("CATALOG_ID") { Description = "The catalog ID, e.g. tinyllama-1.1b-chat" };
        command.Arguments.Add(id);
        app.SetAction(command, async (ctx, ct) =>
        {
            JsonObject entry = await ctx.Client.GetAsync(ApiPaths.CatalogEntry(ctx.Get(id)!), ct);
            CliApp.Print(ctx, entry, () => CatalogText.Render(entry));
        });
        return command;
    }
}
