using Kiln.Core.Errors;
using Kiln.Core.Models;
using Kiln.Core.Names;
using Kiln.Server.Auth;
using Kiln.Server.ControlPlane.Addons;
using Kiln.Server.Gateway;
using Kiln.Server.Signals;
using Kiln.Store;

namespace Kiln.Server.ControlPlane.Api;

/// <summary>
/// <c>/v1/accounts/{a}/deployedModels</c>: deploy an addon onto a deployment (POST), list, get, and
/// undeploy (DELETE). The reconciler does the loading and unloading on the replicas.
/// </summary>
public static class DeployedModelsApi
{
    /// <summary>Maps the routes.</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/accounts/{a}/deployedModels", async (string a, HttpContext ctx, IKilnStore store, AddonOptions options, Kiln.Core.Engines.EngineCatalog engines, ReconcileSignal signal, CancellationToken ct) =>
        {
            Caller.Of(ctx).RequireAccount(a, "account", $"accounts/{a}");
            var body = await ApiJson.ReadObjectAsync(ctx.Request, ct);
            var id = ctx.Request.Query["deployedModelId"].ToString();
            id = id.Length == 0 ? ResourceNames.NewDeploymentId() : ResourceNames.RequireValidId(id, "deployed model");
            var model = await RequireAddonAsync(store, a, JsonFields.String(body, "model"), ct);
            var deployment = await DeploymentOf(store, a, JsonFields.String(body, "deployment"), ct);
            // The engine's reason comes first: enabling addons would not help an engine that cannot load them.
            EngineChoice.RequireAddons(engines.For(deployment.Spec.Engine));
            if (!deployment.Spec.EnableAddons)
            {
                throw KilnError.FailedPrecondition(
                    $"deployment {deployment.Name} does not have addons enabled; update it with enableAddons=true (kilnctl update deployment {deployment.Id} --enable-addons)");
            }
            if (model.BaseModel != deployment.Spec.BaseModel)
            {
                throw KilnError.FailedPrecondition(
                    $"addon {model.Name} adapts base model {model.BaseModel}, but deployment {deployment.Name} serves {deployment.Spec.BaseModel}");
            }
            var created = await store.CreateDeployedModelAsync(new NewDeployedModel(a, id, model.Id, deployment.Id), options.MaxPerDeployment, ct);
            signal.Wake();
            return ApiJson.Ok(DeployedModelJson.Render(created));
        });

        app.MapGet("/v1/accounts/{a}/deployedModels", async (string a, HttpContext ctx, IKilnStore store, CancellationToken ct) =>
        {
            Caller.Of(ctx).RequireAccount(a, "account", $"accounts/{a}");
            var model = ctx.Request.Query["model"].ToString() is { Length: > 0 } m ? ModelName.FromIdOrName(m, a).Model : null;
            var deployment = ctx.Request.Query["deployment"].ToString() is { Length: > 0 } d ? DeploymentName.FromIdOrName(d, a).Deployment : null;
            var page = await store.ListDeployedModelsAsync(a, ApiJson.Page(ctx.Request), model, deployment, ct);
            return ApiJson.Ok(new
            {
                deployedModels = page.Items.Select(DeployedModelJson.Render).ToList(),
                nextPageToken = page.NextPageToken ?? "",
                totalSize = page.TotalSize,
            });
        });

        app.MapGet("/v1/accounts/{a}/deployedModels/{id}", async (string a, string id, HttpContext ctx, IKilnStore store, CancellationToken ct) =>
            ApiJson.Ok(DeployedModelJson.Render(await RequireAsync(store, ctx, a, id, ct))));

        app.MapDelete("/v1/accounts/{a}/deployedModels/{id}", async (string a, string id, HttpContext ctx, IKilnStore store, ReconcileSignal signal, ReplicaDirectory directory, CancellationToken ct) =>
        {
            await RequireAsync(store, ctx, a, id, ct);
            var undeploying = await store.SetDeployedModelStateAsync(a, id, DeployedModelState.Undeploying, ct);
            // The gateway stops routing to it at once; replicas unload it after a grace period.
            directory.Prompt();
            signal.Wake();
            return ApiJson.Ok(DeployedModelJson.Render(undeploying));
        });
    }

    private static async Task<ModelRecord> RequireAddonAsync(IKilnStore store, string account, string? text, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(text))
        {
            throw KilnError.InvalidArgument("model: the addon to deploy (accounts/<A>/models/<M>) is required");
        }
        var name = ModelName.FromIdOrName(text, account);
        var model = (name.Account == account ? await store.GetModelAsync(account, name.Model, ct) : null)
            ?? throw KilnError.NotFound("model", name.ToString());
        if (!model.Kind.IsAddon())
        {
            throw KilnError.InvalidArgument(
                $"model {name} is a {model.Kind.ToWireName()}, not an addon; a base model is served by creating a deployment of it");
        }
        if (model.State == ModelState.Uploading)
        {
            throw KilnError.FailedPrecondition($"addon {name} is UPLOADING; upload its files before deploying it");
        }
        return model;
    }

    private static async Task<DeploymentRecord> DeploymentOf(IKilnStore store, string account, string? text, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(text))
        {
            throw KilnError.InvalidArgument("deployment: the deployment to load the addon onto (accounts/<A>/deployments/<D>) is required");
        }
        var name = DeploymentName.FromIdOrName(text, account);
        return (name.Account == account ? await store.GetDeploymentAsync(account, name.Deployment, ct) : null)
            ?? throw KilnError.NotFound("deployment", name.ToString());
    }

    private static async Task<DeployedModelRecord> RequireAsync(IKilnStore store, HttpContext ctx, string a, string id, CancellationToken ct)
    {
        var name = $"accounts/{a}/deployedModels/{id}";
        Caller.Of(ctx).RequireAccount(a, "deployed model", name);
        return await store.GetDeployedModelAsync(a, id, ct) ?? throw KilnError.NotFound("deployed model", name);
    }
}
