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
        var command = CliApp.Noun("model", "models",
            "Import a model: upload a GGUF file or a Hugging Face folder or .tar archive (config.json and *.safetensors, for vllm and sglang), "
            + "or have the server download a URL, an hf:// file or a catalog model");
        var modelId = ModelIdArgument();
        var from = new Option<string?>("--from")
        {
            Description = "A .gguf file (uploaded), a Hugging Face model folder or .tar/.tar.gz archive of one (uploaded; for vllm and sglang), "
                + "an http(s) URL, hf://<owner>/<repo>/<file>.gguf or a catalog ID (downloaded by the server); without it MODEL_ID is the catalog ID",
            HelpName = "PATH|FOLDER|URL|hf://...|CATALOG_ID",
        };
        var displayName = new Option<string?>("--display-name") { Description = "Human-readable name", HelpName = "NAME" };
        var sha256 = new Option<string?>("--sha256") { Description = "The SHA-256 the downloaded file must have", HelpName = "HEX" };
        command.Arguments.Add(modelId);
        command.Options.Add(from);
        command.Options.Add(displayName);
        command.Options.Add(sha256);
        var wait = new WaitOptions(command, "Wait until the server has downloaded and checked the model (shows bytes, speed and time left)");
        app.SetAction(command, async (ctx, ct) =>
        {
            var source = ctx.Get(from);
            if (source is not null && HfModelImport.Applies(source))
            {
                if (ctx.Get(sha256) is not null)
                    throw new UsageException("--sha256: only for downloads (a URL, hf:// or a catalog ID); an upload is checked against the bytes sent");
                var folder = await new HfModelImport(ctx).RunAsync(ctx.Get(modelId)!, source, ctx.Get(displayName), ct);
                CliApp.Print(ctx, folder, () => ModelText.Render(folder));
                return;
            }
            var request = new ModelImport.Request(ctx.Get(modelId)!, source, ctx.Get(displayName), ctx.Get(sha256), wait.Read(ctx));
            var model = await new ModelImport(ctx).RunAsync(request, ct);
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
        var list = new ListOptions(command);
        app.SetAction(command, async (ctx, ct) =>
        {
            var account = await ctx.AccountIdAsync(ct);
            var models = await ctx.Client.ListAllAsync(ApiPaths.Models(account), "models", list.Query(ctx), ct);
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
