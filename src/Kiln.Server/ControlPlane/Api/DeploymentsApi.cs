using Kiln.Core.Accelerators;
using Kiln.Core.Autoscaling;
using Kiln.Core.Deployments;
using Kiln.Core.Engines;
using Kiln.Core.Errors;
using Kiln.Core.Models;
using Kiln.Core.Names;
using Kiln.Core.Shapes;
using Kiln.Runtime;
using Kiln.Server.Auth;
using Kiln.Server.ControlPlane.Addons;
using Kiln.Server.Signals;
using Kiln.Store;

namespace Kiln.Server.ControlPlane.Api;

/// <summary><c>/v1/accounts/{a}/deployments</c>: create, get, list, patch, delete.</summary>
public static class DeploymentsApi
{
    /// <summary>Maps the routes.</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/accounts/{a}/deployments", async (string a, HttpContext ctx, IKilnStore store, IReplicaRuntime runtime, EngineCatalog engines, ShapeCatalog shapes, DeploymentEvents events, ReconcileSignal signal, CancellationToken ct) =>
        {
            var caller = Caller.Of(ctx);
            caller.RequireAccount(a, "account", $"accounts/{a}");
            var id = ctx.Request.Query["deploymentId"].ToString();
            id = id.Length == 0 ? ResourceNames.NewDeploymentId() : ResourceNames.RequireValidId(id, "deployment");
            var patch = DeploymentRequest.Parse(await ApiJson.ReadObjectAsync(ctx.Request, ct));
            if (patch.BaseModel is { } bm && !bm.Contains('/') && ResourceNames.IsValidId(bm))
            {
                // A bare model ID means a model of the caller's account, as kilnctl accepts it.
                patch = patch with { BaseModel = new ModelName(a, bm).ToString() };
            }
            (patch, var shape) = DeploymentShapesApi.Apply(shapes, patch, a);
            patch = DraftModelCheck.Qualify(patch, a);
            // A request naming no type gets one the inventory can place (CPU on a machine without GPUs).
            var spec = DeploymentSpecs.Create(patch, Placement.DefaultType(runtime.Accelerators()));
            await RequireAcceleratorAsync(store, a, spec, ct);
            AcceleratorsApi.RequirePlaceable(runtime, spec);
            var model = await RequireServableModelAsync(store, a, spec, ct);
            DeploymentShapesApi.RequireFit(shape, model);
            await DraftModelCheck.RequireAsync(store, a, spec, model, ct);
            EngineChoice.Require(engines, spec, model);
            var record = await store.CreateDeploymentAsync(new NewDeployment(a, id, spec, DesiredReplicas.Initial(spec), caller.KeyId), ct);
            await events.AppendAsync(a, id, "Created", $"created with {record.DesiredReplicaCount} desired replica(s) of {spec.BaseModel}", ct);
            signal.Wake();
            return ApiJson.Ok(await DeploymentJson.RenderAsync(store, DefaultMaxAddonCount(ctx), record, detail: true, ct));
        });

        app.MapGet("/v1/accounts/{a}/deployments/{d}", async (string a, string d, HttpContext ctx, IKilnStore store, CancellationToken ct) =>
            ApiJson.Ok(await DeploymentJson.RenderAsync(store, DefaultMaxAddonCount(ctx), await RequireAsync(store, ctx, a, d, ct), detail: true, ct)));

        app.MapGet("/v1/accounts/{a}/deployments", async (string a, HttpContext ctx, IKilnStore store, CancellationToken ct) =>
        {
            Caller.Of(ctx).RequireAccount(a, "account", $"accounts/{a}");
            var showDeleted = ApiJson.Flag(ctx.Request, "showDeleted");
            var request = ApiJson.Page(ctx.Request);
            if (FilteredList.Query(ctx.Request, FilteredList.DeploymentFields, $"deployments/{a}/{showDeleted}") is { } query)
            {
                var all = await FilteredList.AllAsync(p => store.ListDeploymentsAsync(a, p, showDeleted, ct));
                var rendered = new List<object>();
                foreach (var d in all)
                {
                    rendered.Add(await DeploymentJson.RenderAsync(store, DefaultMaxAddonCount(ctx), d, detail: false, ct));
                }
                var filtered = FilteredList.Page(query, rendered, request);
                return ApiJson.Ok(new { deployments = filtered.Items, nextPageToken = filtered.NextPageToken ?? "", totalSize = filtered.TotalSize });
            }
            var page = await store.ListDeploymentsAsync(a, request, showDeleted, ct);
            var deployments = new List<object>();
            foreach (var d in page.Items)
            {
                deployments.Add(await DeploymentJson.RenderAsync(store, DefaultMaxAddonCount(ctx), d, detail: false, ct));
            }
            return ApiJson.Ok(new { deployments, nextPageToken = page.NextPageToken ?? "", totalSize = page.TotalSize });
        });

        app.MapMethods("/v1/accounts/{a}/deployments/{d}", ["PATCH"], async (string a, string d, HttpContext ctx, IKilnStore store, IReplicaRuntime runtime, EngineCatalog engines, ShapeCatalog shapes, DeploymentEvents events, ReconcileSignal signal, CancellationToken ct) =>
        {
            var patch = DraftModelCheck.Qualify(DeploymentRequest.Parse(await ApiJson.ReadObjectAsync(ctx.Request, ct)), a);
            var maskText = ctx.Request.Query["updateMask"].ToString();
            IReadOnlyCollection<string>? mask = maskText.Length == 0 ? null : maskText.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            for (var attempt = 0; ; attempt++)
            {
                var current = await RequireAsync(store, ctx, a, d, ct);
                if (current.DeleteTime is not null || current.State.IsGoingAway())
                {
                    var state = current.State == DeploymentState.Deleted ? current.State : DeploymentState.Deleting;
                    throw KilnError.FailedPrecondition($"deployment {current.Name} is {state.ToWireName()}; it can no longer change");
                }
                var (shaped, shape) = DeploymentShapesApi.Apply(shapes, patch, a, current.Spec);
                var spec = DeploymentSpecs.Update(current.Spec, DraftModelCheck.Qualify(shaped, a), mask, Placement.DefaultType(runtime.Accelerators()));
                if (shape is not null && await store.GetModelAsync(spec.BaseModelName.Account, spec.BaseModelName.Model, ct) is { } shapedModel)
                {
                    DeploymentShapesApi.RequireFit(shape, shapedModel);
                }
                if (current.Spec.EnableAddons && !spec.EnableAddons && (await store.ListDeployedModelsOnAsync(a, d, ct)).Count > 0)
                {
                    throw KilnError.FailedPrecondition($"deployment {current.Name} serves addons; undeploy them before disabling addons");
                }
                if (spec.MaxAddonCount is { } limit && limit != current.Spec.MaxAddonCount
                    && (await store.ListDeployedModelsOnAsync(a, d, ct)).Count is var deployed && deployed > limit)
                {
                    throw KilnError.FailedPrecondition(
                        $"deployment {current.Name} serves {deployed} addon(s); undeploy some before lowering maxAddonCount to {limit}");
                }
                if ((spec.Engine != current.Spec.Engine || spec.EnableAddons != current.Spec.EnableAddons)
                    && await store.GetModelAsync(spec.BaseModelName.Account, spec.BaseModelName.Model, ct) is { } model)
                {
                    EngineChoice.Require(engines, spec, model);
                }
                if (spec.AcceleratorType != current.Spec.AcceleratorType)
                {
                    await RequireAcceleratorAsync(store, a, spec, ct);
                }
                // Only a change of shape is checked: other edits of a deployment the inventory no longer fits stay possible.
                if (spec.AcceleratorType != current.Spec.AcceleratorType || spec.AcceleratorCount != current.Spec.AcceleratorCount)
                {
                    AcceleratorsApi.RequirePlaceable(runtime, spec);
                }
                if (spec.DraftModel is not null && spec.DraftModel != current.Spec.DraftModel
                    && await store.GetModelAsync(spec.BaseModelName.Account, spec.BaseModelName.Model, ct) is { } target)
                {
                    await DraftModelCheck.RequireAsync(store, a, spec, target, ct);
                }
                DeploymentRecord updated;
                try
                {
                    updated = await store.UpdateDeploymentSpecAsync(a, d, spec, current.Generation, ct);
                }
                catch (KilnError e) when (e.Code == StatusCode.Aborted && attempt < 5)
                {
                    continue; // a concurrent PATCH won; merge onto the newer spec
                }
                // The API writes the spec alone: the store keeps the desired count within the new
                // bounds in the same write, and the reconciler, woken below, reports the rollout.
                if (updated.Generation != current.Generation)
                {
                    await events.AppendAsync(a, d, "Updated",
                        $"spec updated to generation {updated.Generation} (min {spec.MinReplicaCount}, max {spec.MaxReplicaCount}, desired {updated.DesiredReplicaCount})", ct);
                }
                signal.Wake();
                return ApiJson.Ok(await DeploymentJson.RenderAsync(store, DefaultMaxAddonCount(ctx), updated, detail: true, ct));
            }
        });

        app.MapPost("/v1/accounts/{a}/deployments/{d}:undelete", async (string a, string d, HttpContext ctx, IKilnStore store, IReplicaRuntime runtime, EngineCatalog engines, DeploymentEvents events, ReconcileSignal signal, CancellationToken ct) =>
        {
            var name = $"accounts/{a}/deployments/{d}";
            Caller.Of(ctx).RequireAccount(a, "deployment", name);
            var current = await store.GetDeploymentAsync(a, d, ct)
                ?? throw new KilnError(StatusCode.NotFound, $"deployment {name} not found: it never existed or was purged, and a purged deployment cannot be undeleted");
            if (current.State == DeploymentState.Deleted)
            {
                // What create checks still holds: the model may be gone, or the tier changed, since.
                await RequireAcceleratorAsync(store, a, current.Spec, ct);
                AcceleratorsApi.RequirePlaceable(runtime, current.Spec);
                var model = await RequireServableModelAsync(store, a, current.Spec, ct);
                EngineChoice.Require(engines, current.Spec, model);
            }
            var record = await store.UndeleteDeploymentAsync(a, d, DesiredReplicas.Initial(current.Spec), ct);
            await events.AppendAsync(a, d, "Undeleted", $"undeleted with {record.DesiredReplicaCount} desired replica(s) of {record.Spec.BaseModel}", ct);
            signal.Wake();
            return ApiJson.Ok(await DeploymentJson.RenderAsync(store, DefaultMaxAddonCount(ctx), record, detail: true, ct));
        });

        // firectl's scale deployment: PATCH in Fireworks' API, POST accepted as for other custom methods.
        app.MapMethods("/v1/accounts/{a}/deployments/{d}:scale", ["POST", "PATCH"], async (string a, string d, HttpContext ctx, IKilnStore store, DeploymentEvents events, CancellationToken ct) =>
        {
            var count = ScaleRequestBody.Parse(await ApiJson.ReadObjectAsync(ctx.Request, ct));
            var current = await RequireAsync(store, ctx, a, d, ct);
            ScaleOutlook.RequireWithinBounds(count, current.Spec);
            // A request to the autoscaler, the desired count's only writer, which applies it at once.
            await store.RequestScaleAsync(a, d, count, ct);
            await events.AppendAsync(a, d, "ScaleRequested", $"scale to {count} requested", ct);
            return ApiJson.Ok(new
            {
                deployment = await DeploymentJson.RenderAsync(store, DefaultMaxAddonCount(ctx), current, detail: true, ct),
                replicaCount = count,
                autoscaler = ScaleOutlook.Describe(current.Spec, count),
            });
        });

        app.MapDelete("/v1/accounts/{a}/deployments/{d}", async (string a, string d, HttpContext ctx, IKilnStore store, DeploymentEvents events, ReconcileSignal signal, CancellationToken ct) =>
        {
            var current = await RequireAsync(store, ctx, a, d, ct);
            // A request in the desired state, like the spec; the reconciler, woken below, writes DELETING.
            var updated = current.DeleteTime is null && current.State != DeploymentState.Deleted
                ? await store.RequestDeploymentDeletionAsync(a, d, ct: ct)
                : current;
            if (current.DeleteTime is null && current.State != DeploymentState.Deleted)
            {
                await events.AppendAsync(a, d, "DeleteRequested", "deletion requested", ct);
            }
            signal.Wake();
            return ApiJson.Ok(await DeploymentJson.RenderAsync(store, DefaultMaxAddonCount(ctx), updated, detail: true, ct));
        });
    }

    /// <summary>What <c>maxAddonCount</c> is for a deployment that sets none: the server's flag.</summary>
    private static int DefaultMaxAddonCount(HttpContext ctx) => ctx.RequestServices.GetRequiredService<AddonOptions>().MaxPerDeployment;

    /// <summary>403 when the account's tier does not include the spec's accelerator type.</summary>
    private static async Task RequireAcceleratorAsync(IKilnStore store, string account, DeploymentSpec spec, CancellationToken ct)
    {
        var record = await store.GetAccountAsync(account, ct) ?? throw KilnError.NotFound("account", $"accounts/{account}");
        if (Kiln.Core.Billing.AcceleratorAccess.Check(record.Tier, account, spec.AcceleratorType) is { } denied)
        {
            throw denied;
        }
    }

    /// <summary>The spec's base model exists in the account and is READY (an addon: one that can be merged).</summary>
    /// <summary>The deployment's base model, once it is one the deployment can serve.</summary>
    private static async Task<ModelRecord> RequireServableModelAsync(IKilnStore store, string account, DeploymentSpec spec, CancellationToken ct)
    {
        var modelName = spec.BaseModelName;
        var model = modelName.Account == account ? await store.GetModelAsync(account, modelName.Model, ct) : null;
        if (model is null)
        {
            throw KilnError.NotFound("model", modelName.ToString());
        }
        if (model.State != ModelState.Ready)
        {
            throw KilnError.FailedPrecondition($"model {modelName} is {model.State.ToWireName()}: upload its file before deploying it");
        }
        if (model.Kind.IsAddon())
        {
            if (spec.EnableAddons)
            {
                throw KilnError.InvalidArgument($"a deployment of addon {modelName} serves it merged into its base; it takes no further addons (drop enableAddons)");
            }
            // The reconciler writes the merged model (DeploymentPass: it starts the replicas that
            // load it, so it makes the file where they run); an addon it could not merge is refused now.
            await MergedAddon.CheckAsync(store, model, ct);
        }
        return model;
    }

    private static async Task<DeploymentRecord> RequireAsync(IKilnStore store, HttpContext ctx, string a, string d, CancellationToken ct)
    {
        var name = $"accounts/{a}/deployments/{d}";
        Caller.Of(ctx).RequireAccount(a, "deployment", name);
        return await store.GetDeploymentAsync(a, d, ct) ?? throw KilnError.NotFound("deployment", name);
    }
}
