using Kiln.Core.Deployments;
using Kiln.Core.Engines;
using Kiln.Core.Errors;
using Kiln.Core.Models;
using Kiln.Core.Names;
using Kiln.Server.Auth;
using Kiln.Core.Catalog;
using Kiln.Server.ControlPlane.Addons;
using Kiln.Server.ControlPlane.Imports;
using Kiln.Store;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;

namespace Kiln.Server.ControlPlane.Api;

/// <summary><c>/v1/accounts/{a}/models</c>: create, upload, get, list, delete.</summary>
public static class ModelsApi
{
    /// <summary>Maps the routes.</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/accounts/{a}/models", async (string a, HttpContext ctx, IKilnStore store, DataDirectory dir, [FromServices] ModelCatalog catalog, ModelImportOptions imports, CancellationToken ct) =>
        {
            var modelId = ctx.Request.Query["modelId"].ToString();
            if (modelId.Length == 0)
            {
                throw KilnError.InvalidArgument("modelId: the query parameter ?modelId=<MODEL_ID> is required");
            }
            ResourceNames.RequireValidId(modelId, "model");
            Caller.Of(ctx).RequireAccount(a, "account", $"accounts/{a}");
            var body = await ApiJson.ReadObjectAsync(ctx.Request, ct);
            var kind = ModelKind.HfBaseModel;
            if (JsonFields.String(body, "kind") is { } k && (!ModelKinds.TryParse(k, out kind) || kind == ModelKind.Unspecified))
            {
                throw KilnError.InvalidArgument($"kind: \"{k}\" is not supported; use HF_BASE_MODEL, CUSTOM_MODEL or HF_PEFT_ADDON");
            }
            var baseModel = JsonFields.String(body, "baseModel");
            string? baseName = null;
            if (kind.IsAddon())
            {
                baseName = (await AddonModels.RequireBaseAsync(store, a, baseModel, ct)).Name.ToString();
            }
            else if (baseModel is not null)
            {
                throw KilnError.InvalidArgument($"baseModel: only addons (kind HF_PEFT_ADDON) have a base model, not {kind.ToWireName()}");
            }
            var format = ModelFormat.Gguf;
            if (JsonFields.String(body, "format") is { } f && (!ModelFormats.TryParse(f, out format) || (kind.IsAddon() && format != ModelFormat.Gguf)))
            {
                throw KilnError.InvalidArgument(kind.IsAddon()
                    ? $"format: an addon's files are checked against its base; it takes no format (got \"{f}\")"
                    : $"format: \"{f}\" is not a model format; known: {string.Join(", ", ModelFormats.WireNames)}");
            }
            var path = kind.IsAddon() || format == ModelFormat.HfSafetensors ? dir.AddonFolder(a, modelId) : dir.ModelFile(a, modelId);
            var source = JsonFields.String(body, "source") is { } text
                ? kind.IsAddon() || format == ModelFormat.HfSafetensors
                    ? throw KilnError.InvalidArgument(kind.IsAddon()
                        ? "source: addons are uploaded (PUT ...:upload), not downloaded"
                        : "source: a Hugging Face model folder is uploaded file by file (kilnctl import model --from FOLDER), not downloaded")
                    : ImportSource.Resolve(text, JsonFields.String(body, "sha256"), catalog, imports.HuggingFaceBase)
                : JsonFields.String(body, "sha256") is not null
                    ? throw KilnError.InvalidArgument("sha256: only a model imported from a source (\"source\") takes an expected SHA-256")
                    : null;
            // With a source the server downloads the weights (ModelImporter); without one the client uploads them.
            var model = await store.CreateModelAsync(new NewModel(a, modelId, kind, path, 0, source is null ? ModelState.Uploading : ModelState.Downloading)
            {
                DisplayName = JsonFields.String(body, "displayName") ?? source?.Entry?.Name,
                BaseModel = baseName,
                Format = format,
                Source = source?.Source,
                SourceUrl = source?.Url.AbsoluteUri,
                ExpectedSha256 = source?.ExpectedSha256,
            }, ct);
            return ApiJson.Ok(await ModelJson.RenderAsync(store, model, ct));
        });

        app.MapPut("/v1/accounts/{a}/models/{m}:upload", async (string a, string m, HttpContext ctx, IKilnStore store, DataDirectory dir, CancellationToken ct) =>
        {
            var model = await RequireAsync(store, ctx, a, m, ct);
            if (model.State != ModelState.Uploading)
            {
                throw new ApiError(409, KilnError.FailedPrecondition($"model {model.Name} is already {model.State.ToWireName()}; delete it to upload again"));
            }
            // Model files are far larger than the server's default request limit.
            if (ctx.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = null;
            }
            var file = ctx.Request.Query["file"].ToString() is { Length: > 0 } f ? f : null;
            if (model.Kind.IsAddon())
            {
                var addon = await AddonModels.UploadAsync(store, dir, model, file, ctx.Request.Body, ct);
                return ApiJson.Ok(await ModelJson.RenderAsync(store, addon, ct));
            }
            if (model.Format == ModelFormat.HfSafetensors)
            {
                await HfModelUpload.ReceiveAsync(ctx.Request.Body, model.FilePath, file, ct);
                return ApiJson.Ok(await ModelJson.RenderAsync(store, model, ct));
            }
            if (file is not null)
            {
                throw KilnError.InvalidArgument($"file: a base model is one GGUF file; ?file= is for addons (got \"{file}\")");
            }
            var result = await ModelUpload.ReceiveAsync(ctx.Request.Body, model.FilePath, ct);
            var updated = await store.UpdateModelAsync(model with
            {
                Sha256 = result.Sha256,
                SizeBytes = result.SizeBytes,
                Architecture = result.Architecture,
                ContextLength = result.ContextLength,
                State = ModelState.Ready,
            }, ct);
            return ApiJson.Ok(await ModelJson.RenderAsync(store, updated, ct));
        });

        // Fireworks' name for "every file is up: check the model and make it usable".
        app.MapPost("/v1/accounts/{a}/models/{m}:validateUpload", async (string a, string m, HttpContext ctx, IKilnStore store, CancellationToken ct) =>
        {
            var model = await RequireAsync(store, ctx, a, m, ct);
            if (model.State == ModelState.Uploading && model.Format == ModelFormat.HfSafetensors)
            {
                model = await HfModelUpload.CompleteAsync(store, model, ct);
            }
            else if (model.State == ModelState.Uploading)
            {
                throw KilnError.FailedPrecondition($"model {model.Name} has not received its file yet");
            }
            return ApiJson.Ok(await ModelJson.RenderAsync(store, model, ct));
        });

        app.MapGet("/v1/accounts/{a}/models/{m}", async (string a, string m, HttpContext ctx, IKilnStore store, CancellationToken ct) =>
            ApiJson.Ok(await ModelJson.RenderAsync(store, await RequireAsync(store, ctx, a, m, ct), ct)));

        app.MapGet("/v1/accounts/{a}/models", async (string a, HttpContext ctx, IKilnStore store, CancellationToken ct) =>
        {
            Caller.Of(ctx).RequireAccount(a, "account", $"accounts/{a}");
            var request = ApiJson.Page(ctx.Request);
            if (FilteredList.Query(ctx.Request, FilteredList.ModelFields, $"models/{a}") is { } query)
            {
                var rendered = new List<object>();
                foreach (var m in await FilteredList.AllAsync(p => store.ListModelsAsync(a, p, ct)))
                {
                    rendered.Add(await ModelJson.RenderAsync(store, m, ct));
                }
                var filtered = FilteredList.Page(query, rendered, request);
                return ApiJson.Ok(new { models = filtered.Items, nextPageToken = filtered.NextPageToken ?? "", totalSize = filtered.TotalSize });
            }
            var page = await store.ListModelsAsync(a, request, ct);
            var models = new List<object>();
            foreach (var m in page.Items)
            {
                models.Add(await ModelJson.RenderAsync(store, m, ct));
            }
            return ApiJson.Ok(new { models, nextPageToken = page.NextPageToken ?? "", totalSize = page.TotalSize });
        });

        app.MapDelete("/v1/accounts/{a}/models/{m}", async (string a, string m, HttpContext ctx, IKilnStore store, DataDirectory dir, CancellationToken ct) =>
        {
            var model = await RequireAsync(store, ctx, a, m, ct);
            if (model.Kind.IsAddon())
            {
                await RequireUndeployedAsync(store, model, ct);
            }
            var serving = await store.ListDeploymentsServingAsync(model.Name, ct);
            if (serving.Count > 0)
            {
                throw new ApiError(409, KilnError.FailedPrecondition(
                    $"model {model.Name} is deployed by {string.Join(", ", serving)}; delete the deployment first"));
            }
            try
            {
                await store.DeleteModelAsync(a, m, ct);
            }
            catch (KilnError e) when (e.Code == StatusCode.FailedPrecondition)
            {
                throw new ApiError(409, e);
            }
            if (model.Kind.IsAddon() || model.Format == ModelFormat.HfSafetensors)
            {
                var folder = dir.AddonFolder(a, m);
                if (Directory.Exists(folder))
                {
                    Directory.Delete(folder, recursive: true);
                }
            }
            else
            {
                File.Delete(model.FilePath);
                // A download in progress stops at the importer's next look; its data goes now.
                ResumableDownload.Discard(dir.DownloadPart(a, m));
            }
            return ApiJson.Ok(new { });
        });
    }

    /// <summary>
    /// 409 while the addon is deployed on a deployment, naming the undeploy call rather than
    /// deleting the deployment: the deployment and its other addons can stay.
    /// </summary>
    private static async Task RequireUndeployedAsync(IKilnStore store, ModelRecord addon, CancellationToken ct)
    {
        var deployed = new List<DeployedModelRecord>();
        string? token = null;
        do
        {
            var page = await store.ListDeployedModelsAsync(addon.Account, new PageRequest(200, token), modelId: addon.Id, ct: ct);
            foreach (var d in page.Items.Where(d => d.State != DeployedModelState.Undeploying))
            {
                // A deployment being deleted undeploys its addons itself.
                if (await store.GetDeploymentAsync(addon.Account, d.DeploymentId, ct) is { DeleteTime: null } on && !on.State.IsGoingAway())
                {
                    deployed.Add(d);
                }
            }
            token = page.NextPageToken;
        }
        while (!string.IsNullOrEmpty(token));
        if (deployed.Count == 0)
        {
            return;
        }
        var first = deployed[0];
        throw new ApiError(409, KilnError.FailedPrecondition(
            $"addon {addon.Name} is deployed on {string.Join(", ", deployed.Select(d => d.DeploymentName))}; undeploy it first: "
            + $"kilnctl undeploy {addon.Id} --deployment-id {first.DeploymentId} "
            + $"(DELETE /v1/accounts/{addon.Account}/deployedModels/{first.Id}), then delete the model"));
    }

    private static async Task<ModelRecord> RequireAsync(IKilnStore store, HttpContext ctx, string a, string m, CancellationToken ct)
    {
        var name = $"accounts/{a}/models/{m}";
        Caller.Of(ctx).RequireAccount(a, "model", name);
        return await store.GetModelAsync(a, m, ct) ?? throw KilnError.NotFound("model", name);
    }
}
