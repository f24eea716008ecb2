using System.CommandLine;
using System.Text.Json.Nodes;
using Kiln.Cli.Api;
using Kiln.Cli.Formatting;

namespace Kiln.Cli.Commands;

/// <summary><c>import model</c>, <c>get model</c>, <c>list models</c>, <c>delete model</c>.</summary>
public static class ModelCommands
{
    private static Argument<string> ModelIdArgument() =>
        new("MODEL_ID") { Description = "The model's ID or full name accounts/<ACCOUNT_ID>/models/<MODEL_ID>" };

    public static Command Import(CliApp app)
    {
        var command = CliApp.Noun("model", "models", "Import a GGUF model (a local file or an http(s) URL) or a Hugging Face model (a folder or .tar archive with config.json and *.safetensors)");
        var modelId = ModelIdArgument();
        var from = new Option<string>("--from")
        {
            Description = "Path of a .gguf file, an https URL to download it from, or a Hugging Face model folder or .tar/.tar.gz archive of one (for vllm and sglang)",
            HelpName = "PATH|URL|FOLDER",
            Required = true,
        };
        var displayName = new Option<string?>("--display-name") { Description = "Human-readable name", HelpName = "NAME" };
        command.Arguments.Add(modelId);
        command.Options.Add(from);
        command.Options.Add(displayName);
        app.SetAction(command, async (ctx, ct) =>
        {
            var source = ctx.Get(from)!;
            var model = HfModelImport.Applies(source)
                ? await new HfModelImport(ctx).RunAsync(ctx.Get(modelId), source, ctx.Get(displayName), ct)
                : await new ModelImport(ctx).RunAsync(ctx.Get(modelId), source, ctx.Get(displayName), ct);
            CliApp.Print(ctx, model, () => ModelText.Render(model));
        });
        return command;
    }

    public static Command Get(CliApp app)
    {
        var command = CliApp.Noun("model", "models", "Show a model, including the deployments serving it");
        var modelId = ModelIdArgument();
        command.Arguments.Add(modelId);
        app.SetAction(command, async (ctx, ct) =>
        {
            var (account, id) = await ctx.ResolveAsync(ctx.Get(modelId), "models", "MODEL_ID", ct);
            var model = await ctx.Client.GetAsync(ApiPaths.Model(account, id), ct);
            CliApp.Print(ctx, model, () => ModelText.Render(model));
        });
        return command;
    }

    public static Command List(CliApp app)
    {
        var command = CliApp.Noun("models", "model", "List the account's models");
        app.SetAction(command, async (ctx, ct) =>
        {
            var account = await ctx.AccountIdAsync(ct);
            var models = await ctx.Client.ListAllAsync(ApiPaths.Models(account), "models", null, ct);
            CliApp.Print(ctx, new JsonObject { ["models"] = new JsonArray([.. models]) },
                () => ModelText.RenderTable(models));
        });
        return command;
    }

    public static Command Delete(CliApp app)
    {
        var command = CliApp.Noun("model", "models", "Delete a model (refused while a deployment uses it)");
        var modelId = ModelIdArgument();
        command.Arguments.Add(modelId);
        app.SetAction(command, async (ctx, ct) =>
        {
            var (account, id) = await ctx.ResolveAsync(ctx.Get(modelId), "models", "MODEL_ID", ct);
            var result = await ctx.Client.DeleteAsync(ApiPaths.Model(account, id), ct);
            CliApp.Print(ctx, result, () => $"Deleted model accounts/{account}/models/{id}.\n");
        });
        return command;
    }
}
