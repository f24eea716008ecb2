using System.CommandLine;
using System.Text.Json.Nodes;
using Kiln.Cli.Api;
using Kiln.Cli.Formatting;

namespace Kiln.Cli.Commands;

/// <summary>
/// Addons: <c>create model --base-model</c> (upload), <c>deploy</c> and <c>undeploy</c> (load onto
/// or unload from a deployment), <c>list deployed-models</c>.
/// </summary>
public static class AddonCommands
{
    private static Argument<string> AddonArgument() =>
        new("ADDON_ID") { Description = "The addon's model ID or full name accounts/<ACCOUNT_ID>/models/<MODEL_ID>" };

    private static Option<string> DeploymentOption(bool required) => new("--deployment-id")
    {
        Description = "The deployment's ID or full name accounts/<ACCOUNT_ID>/deployments/<DEPLOYMENT_ID>",
        HelpName = "ID",
        Required = required,
    };

    public static Command CreateModel(CliApp app)
    {
        var command = CliApp.Noun("model", "models", "Upload a LoRA addon (llama.cpp LoRA GGUF or PEFT folder) for a base model");
        var modelId = new Argument<string>("MODEL_ID") { Description = "The addon's ID or full name accounts/<ACCOUNT_ID>/models/<MODEL_ID>" };
        var baseModel = new Option<string>("--base-model")
        {
            Description = "The base model the addon adapts (use 'import model' for base models)",
            HelpName = "MODEL_ID",
            Required = true,
        };
        var from = new Option<string>("--from")
        {
            Description = "A LoRA .gguf file, or a PEFT folder with adapter_config.json and adapter_model.safetensors",
            HelpName = "PATH",
            Required = true,
        };
        var displayName = new Option<string?>("--display-name") { Description = "Human-readable name", HelpName = "NAME" };
        command.Arguments.Add(modelId);
        command.Options.Add(baseModel);
        command.Options.Add(from);
        command.Options.Add(displayName);
        app.SetAction(command, async (ctx, ct) =>
        {
            var model = await new AddonCreate(ctx).RunAsync(ctx.Get(modelId), ctx.Get(baseModel)!, ctx.Get(from)!, ctx.Get(displayName), ct);
            CliApp.Print(ctx, model, () => ModelText.Render(model));
        });
        return command;
    }

    public static Command Deploy(CliApp app)
    {
        var command = new Command("deploy", "Load an addon onto a deployment with addons enabled (no restart)");
        var addon = AddonArgument();
        var deployment = DeploymentOption(required: true);
        command.Arguments.Add(addon);
        command.Options.Add(deployment);
        var wait = new WaitOptions(command, "Wait until every ready replica serves the addon (DEPLOYED)");
        app.SetAction(command, async (ctx, ct) =>
        {
            var waitTimeout = wait.Read(ctx);
            var (account, addonName, deploymentName) = await NamesAsync(ctx, addon, deployment, ct);
            var deployed = await ctx.Client.PostAsync(ApiPaths.DeployedModels(account),
                new JsonObject { ["model"] = addonName, ["deployment"] = deploymentName }, ct);
            if (waitTimeout is { } timeout)
                deployed = await new DeployedModelWaiter(ctx).WaitAsync(account, IdOf(ctx, deployed), untilGone: false, timeout, ct) ?? deployed;
            CliApp.Print(ctx, deployed, () => DeployedModelText.Render(deployed));
        });
        return command;
    }

    public static Command Undeploy(CliApp app)
    {
        var command = new Command("undeploy", "Unload an addon from a deployment (its in-flight requests finish first)");
        var addon = AddonArgument();
        var deployment = DeploymentOption(required: true);
        command.Arguments.Add(addon);
        command.Options.Add(deployment);
        var wait = new WaitOptions(command, "Wait until no replica holds the addon any more");
        app.SetAction(command, async (ctx, ct) =>
        {
            var waitTimeout = wait.Read(ctx);
            var (account, addonName, deploymentName) = await NamesAsync(ctx, addon, deployment, ct);
            var query = $"model={Uri.EscapeDataString(addonName)}&deployment={Uri.EscapeDataString(deploymentName)}";
            var found = await ctx.Client.ListAllAsync(ApiPaths.DeployedModels(account), "deployedModels", query, ct);
            var target = found.FirstOrDefault()
                ?? throw new CommandFailedException($"{addonName} is not deployed on {deploymentName}");
            var id = IdOf(ctx, target);
            var undeploying = await ctx.Client.DeleteAsync(ApiPaths.DeployedModel(account, id), ct);
            if (waitTimeout is { } timeout)
            {
                await new DeployedModelWaiter(ctx).WaitAsync(account, id, untilGone: true, timeout, ct);
                CliApp.Print(ctx, undeploying, () => $"Undeployed {addonName} from {deploymentName}.\n");
                return;
            }
            CliApp.Print(ctx, undeploying, () => $"Undeploying {addonName} from {deploymentName} ({Json.Str(undeploying, "name")}).\n");
        });
        return command;
    }

    public static Command ListDeployedModels(CliApp app)
    {
        var command = CliApp.Noun("deployed-models", "deployed-model", "List the addons deployed on the account's deployments");
        var deployment = DeploymentOption(required: false);
        command.Options.Add(deployment);
        app.SetAction(command, async (ctx, ct) =>
        {
            var account = await ctx.AccountIdAsync(ct);
            string? query = null;
            if (ctx.Get(deployment) is { Length: > 0 } d)
            {
                var full = ResourceName.TryParseFull(d, "deployments", "--deployment-id");
                query = $"deployment={Uri.EscapeDataString(full?.ToString() ?? $"accounts/{account}/deployments/{d}")}";
            }
            var items = await ctx.Client.ListAllAsync(ApiPaths.DeployedModels(account), "deployedModels", query, ct);
            CliApp.Print(ctx, new JsonObject { ["deployedModels"] = new JsonArray([.. items]) }, () => DeployedModelText.RenderTable(items));
        });
        return command;
    }

    private static async Task<(string Account, string Addon, string Deployment)> NamesAsync(
        CommandContext ctx, Argument<string> addon, Option<string> deployment, CancellationToken ct)
    {
        var (account, addonId) = await ctx.ResolveAsync(ctx.Get(addon), "models", "ADDON_ID", ct);
        var deploymentText = ctx.Get(deployment)!;
        var full = ResourceName.TryParseFull(deploymentText, "deployments", "--deployment-id");
        return (account, $"accounts/{account}/models/{addonId}", full?.ToString() ?? $"accounts/{account}/deployments/{deploymentText}");
    }

    private static string IdOf(CommandContext ctx, JsonObject deployed)
    {
        var name = Json.Str(deployed, "name");
        return name.Length > 0 ? name[(name.LastIndexOf('/') + 1)..]
            : throw new KilnConnectionException(ctx.ServerUri, "the server answered a deployed model without a name", null);
    }
}
