using System.CommandLine;
using System.Text.Json.Nodes;
using Kiln.Cli.Api;
using Kiln.Cli.Formatting;

namespace Kiln.Cli.Commands;

/// <summary>create, get, list, update, delete, scale and undelete for deployments.</summary>
public static class DeploymentCommands
{
    public const string DefaultWaitTimeout = "30m";

    private static Argument<string> DeploymentIdArgument() =>
        new("DEPLOYMENT_ID") { Description = "The deployment's ID or full name accounts/<ACCOUNT_ID>/deployments/<DEPLOYMENT_ID>" };

    public static Command Create(CliApp app)
    {
        var command = CliApp.Noun("deployment", "deployments", "Create an on-demand deployment of a model");
        var modelId = new Argument<string?>("MODEL_ID")
        {
            Description = "The model to serve: its ID or full name accounts/<ACCOUNT_ID>/models/<MODEL_ID> (or baseModel in --file)",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var deploymentId = new Option<string?>("--deployment-id")
        {
            Description = "ID for the deployment (default: chosen by the server)",
            HelpName = "ID",
        };
        var spec = new DeploymentSpecOptions();
        command.Arguments.Add(modelId);
        command.Options.Add(deploymentId);
        spec.AddTo(command);
        var wait = new WaitOptions(command, "Wait until the deployment is READY (exits non-zero if it FAILS or the wait times out)");
        app.SetAction(command, async (ctx, ct) =>
        {
            // Every flag is checked before the first request.
            var waitTimeout = wait.Read(ctx);
            var body = DeploymentBody.Merge(DeploymentBody.ReadFile(ctx.Get(spec.File)), DeploymentSpec.Build(spec.Read(ctx)));
            var dryRun = ctx.Get(spec.DryRun);
            var account = dryRun ? ctx.KnownAccountId() ?? "<ACCOUNT_ID>" : await ctx.AccountIdAsync(ct);
            if (ctx.Get(modelId) is { } model)
            {
                var fullModel = ResourceName.TryParseFull(model, "models", "MODEL_ID");
                body.Remove("baseModel");
                body.Insert(0, "baseModel", fullModel?.ToString() ?? $"accounts/{account}/models/{model}");
            }
            else if (body["baseModel"] is null)
            {
                throw new UsageException("MODEL_ID is required (or a baseModel field in --file)");
            }

            var path = ApiPaths.Deployments(account);
            if (ctx.Get(deploymentId) is { Length: > 0 } id)
                path += $"?deploymentId={Uri.EscapeDataString(id)}";
            if (dryRun)
            {
                DeploymentBody.PrintDryRun(ctx, "POST", path, body);
                return;
            }
            var deployment = await ctx.Client.PostAsync(path, body, ct);
            if (waitTimeout is { } timeout)
                deployment = await WaitAsync(ctx, deployment, account, DeploymentWaiter.Goal.Ready, timeout, ct) ?? deployment;
            CliApp.Print(ctx, deployment, () => DeploymentText.Render(deployment));
        });
        return command;
    }

    public static Command Get(CliApp app)
    {
        var command = CliApp.Noun("deployment", "deployments", "Show a deployment");
        var id = DeploymentIdArgument();
        command.Arguments.Add(id);
        app.SetAction(command, async (ctx, ct) =>
        {
            var (account, deploymentId) = await ctx.ResolveAsync(ctx.Get(id), "deployments", "DEPLOYMENT_ID", ct);
            var deployment = await ctx.Client.GetAsync(ApiPaths.Deployment(account, deploymentId), ct);
            CliApp.Print(ctx, deployment, () => DeploymentText.Render(deployment));
        });
        return command;
    }

    public static Command List(CliApp app)
    {
        var command = CliApp.Noun("deployments", "deployment", "List the account's deployments");
        var showDeleted = new Option<bool>("--show-deleted") { Description = "Include DELETED deployments" };
        command.Options.Add(showDeleted);
        var list = new ListOptions(command);
        app.SetAction(command, async (ctx, ct) =>
        {
            var account = await ctx.AccountIdAsync(ct);
            var deployments = await ctx.Client.ListAllAsync(ApiPaths.Deployments(account), "deployments",
                list.Query(ctx, ctx.Get(showDeleted) ? "showDeleted=true" : null), ct);
            CliApp.Print(ctx, new JsonObject { ["deployments"] = new JsonArray([.. deployments]) },
                () => DeploymentText.RenderTable(deployments));
        });
        return command;
    }

    public static Command Update(CliApp app)
    {
        var command = CliApp.Noun("deployment", "deployments", "Change a deployment; only the flags given are changed");
        var id = DeploymentIdArgument();
        var spec = new DeploymentSpecOptions();
        command.Arguments.Add(id);
        spec.AddTo(command);
        var wait = new WaitOptions(command, "Wait until the deployment is READY again");
        app.SetAction(command, async (ctx, ct) =>
        {
            var waitTimeout = wait.Read(ctx);
            var body = DeploymentBody.Merge(DeploymentBody.ReadFile(ctx.Get(spec.File)), DeploymentSpec.Build(spec.Read(ctx)));
            if (body.Count == 0)
                throw new UsageException("nothing to update: give at least one flag such as --min-replica-count, or --file (see --help)");
            if (ctx.Get(spec.DryRun))
            {
                var text = ctx.Get(id);
                var full = ResourceName.TryParseFull(text, "deployments", "DEPLOYMENT_ID");
                var path = ApiPaths.Deployment(full?.AccountId ?? ctx.KnownAccountId() ?? "<ACCOUNT_ID>", full?.Id ?? text);
                DeploymentBody.PrintDryRun(ctx, "PATCH", path, body);
                return;
            }
            await PatchAsync(ctx, ctx.Get(id), body, waitTimeout, ct);
        });
        return command;
    }

    public static Command Scale(CliApp app)
    {
        var command = CliApp.Noun("deployment", "deployments",
            "Set a deployment's desired replica count within its min and max; the autoscaler then follows load again after its windows");
        var id = DeploymentIdArgument();
        var replicaCount = new Option<string>("--replica-count")
        {
            Description = "The desired number of replicas, within the deployment's min and max replica counts",
            HelpName = "N",
            Required = true,
        };
        command.Arguments.Add(id);
        command.Options.Add(replicaCount);
        var wait = new WaitOptions(command, "Wait until the deployment is READY at the new count");
        app.SetAction(command, async (ctx, ct) =>
        {
            var waitTimeout = wait.Read(ctx);
            var n = FlagValues.Count("--replica-count", ctx.Get(replicaCount)!);
            var (account, deploymentId) = await ctx.ResolveAsync(ctx.Get(id), "deployments", "DEPLOYMENT_ID", ct);
            var answer = await ctx.Client.PostAsync(ApiPaths.DeploymentScale(account, deploymentId), new JsonObject { ["replicaCount"] = n }, ct);
            var name = $"accounts/{account}/deployments/{deploymentId}";
            var text = $"Requested {n} replica(s) for deployment {name}.\nNext: {Json.Str(answer, "autoscaler")}.\n";
            if (waitTimeout is { } timeout)
            {
                var last = await new DeploymentWaiter(ctx).WaitAsync(account, deploymentId, DeploymentWaiter.Goal.Ready, timeout, ct,
                    until: d => Json.Long(d, "desiredReplicaCount") == n);
                if (last is not null)
                    answer["deployment"] = last.DeepClone();
                CliApp.Print(ctx, answer, () => text + "\n" + DeploymentText.Render(last ?? new JsonObject()));
                return;
            }
            CliApp.Print(ctx, answer, () => text);
        });
        return command;
    }

    public static Command Delete(CliApp app)
    {
        var command = CliApp.Noun("deployment", "deployments", "Delete a deployment and stop its replicas");
        var id = DeploymentIdArgument();
        command.Arguments.Add(id);
        var wait = new WaitOptions(command, "Wait until the deployment is DELETED");
        app.SetAction(command, async (ctx, ct) =>
        {
            var waitTimeout = wait.Read(ctx);
            var (account, deploymentId) = await ctx.ResolveAsync(ctx.Get(id), "deployments", "DEPLOYMENT_ID", ct);
            var deployment = await ctx.Client.DeleteAsync(ApiPaths.Deployment(account, deploymentId), ct);
            var name = $"accounts/{account}/deployments/{deploymentId}";
            if (waitTimeout is { } timeout)
            {
                var last = await new DeploymentWaiter(ctx).WaitAsync(account, deploymentId, DeploymentWaiter.Goal.Deleted, timeout, ct);
                deployment = last ?? deployment;
                CliApp.Print(ctx, deployment, () => $"Deployment {name} is DELETED.\n");
                return;
            }
            var state = Json.Str(deployment, "state");
            CliApp.Print(ctx, deployment, () => $"Deployment {name} is {(state.Length > 0 ? state : "DELETING")}.\n");
        });
        return command;
    }

    public static Command Undelete(CliApp app)
    {
        var command = CliApp.Noun("deployment", "deployments",
            "Bring a DELETED deployment (see list deployments --show-deleted) back with its spec");
        var id = DeploymentIdArgument();
        command.Arguments.Add(id);
        var wait = new WaitOptions(command, "Wait until the deployment is READY again");
        app.SetAction(command, async (ctx, ct) =>
        {
            var waitTimeout = wait.Read(ctx);
            var (account, deploymentId) = await ctx.ResolveAsync(ctx.Get(id), "deployments", "DEPLOYMENT_ID", ct);
            var deployment = await ctx.Client.PostAsync(ApiPaths.DeploymentUndelete(account, deploymentId), new JsonObject(), ct);
            if (waitTimeout is { } timeout)
                deployment = await WaitAsync(ctx, deployment, account, DeploymentWaiter.Goal.Ready, timeout, ct) ?? deployment;
            CliApp.Print(ctx, deployment, () => DeploymentText.Render(deployment));
        });
        return command;
    }

    private static async Task PatchAsync(CommandContext ctx, string idText, JsonObject body, long? waitTimeout, CancellationToken ct)
    {
        var (account, deploymentId) = await ctx.ResolveAsync(idText, "deployments", "DEPLOYMENT_ID", ct);
        var deployment = await ctx.Client.PatchAsync(ApiPaths.Deployment(account, deploymentId), body, ct);
        if (waitTimeout is { } timeout)
            deployment = await WaitAsync(ctx, deployment, account, DeploymentWaiter.Goal.Ready, timeout, ct) ?? deployment;
        CliApp.Print(ctx, deployment, () => DeploymentText.Render(deployment));
    }

    // The ID to poll comes from the server's answer, since create may have chosen it.
    private static Task<JsonObject?> WaitAsync(CommandContext ctx, JsonObject deployment, string account,
        DeploymentWaiter.Goal goal, long timeout, CancellationToken ct)
    {
        var name = Json.Str(deployment, "name");
        var id = name.Length > 0 ? name[(name.LastIndexOf('/') + 1)..] : throw new KilnConnectionException(
            ctx.ServerUri, "the server answered a deployment without a name", null);
        return new DeploymentWaiter(ctx).WaitAsync(account, id, goal, timeout, ct);
    }
}
