using Kiln.Core.Deployments;
using Kiln.Core.Errors;
using Kiln.Core.Shapes;
using Kiln.Server.Auth;
using Kiln.Store;
using Microsoft.AspNetCore.Mvc;

namespace Kiln.Server.ControlPlane.Api;

/// <summary>
/// <c>/v1/accounts/{a}/deploymentShapes/{s}[/versions[/{v}]]</c>: the server's shapes (account
/// <c>kiln</c>, readable by every caller), and resolving a deployment's <c>deploymentShape</c>.
/// </summary>
public static class DeploymentShapesApi
{
    /// <summary>Maps the routes.</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        // AIP-159: shape "-" lists the versions of every shape; ?baseModel=M keeps those that can serve M.
        app.MapGet("/v1/accounts/{a}/deploymentShapes/{s}/versions", async (string a, string s, HttpContext ctx, [FromServices] ShapeCatalog shapes, IKilnStore store, CancellationToken ct) =>
        {
            var versions = Visible(ctx, shapes, a).Where(v => s == "-" || v.ShapeId == s).ToList();
            if (s != "-" && versions.Count == 0)
            {
                throw KilnError.NotFound("deployment shape", $"accounts/{a}/deploymentShapes/{s}");
            }
            if (ctx.Request.Query["baseModel"].ToString() is { Length: > 0 } baseModel)
            {
                var model = await ModelOfAsync(ctx, store, baseModel, ct);
                versions = [.. versions.Where(v => ShapeFit.Check(v, model) is null)];
            }
            return ApiJson.Ok(new { deploymentShapeVersions = versions.Select(Render), nextPageToken = "", totalSize = versions.Count });
        });

        app.MapGet("/v1/accounts/{a}/deploymentShapes/{s}/versions/{v}", (string a, string s, string v, HttpContext ctx, [FromServices] ShapeCatalog shapes) =>
            ApiJson.Ok(Render(Resolve(shapes, $"accounts/{a}/deploymentShapes/{s}/versions/{v}", Caller.Of(ctx).AccountId))));

        app.MapGet("/v1/accounts/{a}/deploymentShapes/{s}", (string a, string s, HttpContext ctx, [FromServices] ShapeCatalog shapes) =>
        {
            var latest = Resolve(shapes, $"accounts/{a}/deploymentShapes/{s}", Caller.Of(ctx).AccountId);
            return ApiJson.Ok(new { name = latest.ShapeName, displayName = latest.Snapshot.DisplayName, description = latest.Snapshot.Description, latestVersion = latest.Name });
        });
    }

    /// <summary>
    /// The version <paramref name="reference"/> names (a shape ID, shape name or version name), as
    /// the caller of <paramref name="account"/> sees it; 400 when malformed, 404 when unknown.
    /// </summary>
    public static ShapeVersion Resolve(ShapeCatalog shapes, string reference, string account)
    {
        if (!ShapeName.TryParse(reference, out var name, out var error))
        {
            throw KilnError.InvalidArgument(new[] { new FieldViolation("deploymentShape", error) });
        }
        // Kiln keeps shapes on the server (account kiln); an account's own names resolve to nothing yet.
        var found = name.Account is null or ShapeName.BuiltInAccount ? shapes.Find(name.ShapeId, name.VersionId) : null;
        return found ?? throw KilnError.NotFound("deployment shape", name.Account is null
            ? $"{reference} (looked in accounts/{account} and accounts/{ShapeName.BuiltInAccount}; list them with GET /v1/accounts/{ShapeName.BuiltInAccount}/deploymentShapes/-/versions)"
            : reference);
    }

    /// <summary>
    /// <paramref name="patch"/> with its <c>deploymentShape</c> resolved and applied (the shape's
    /// fields filled in, contradictions refused), or unchanged without one. On update
    /// (<paramref name="current"/> given), a patch that keeps the shape must not contradict it.
    /// </summary>
    public static (DeploymentSpecPatch Patch, ShapeVersion? Shape) Apply(ShapeCatalog shapes, DeploymentSpecPatch patch, string account, DeploymentSpec? current = null)
    {
        if (patch.DeploymentShape is { Length: > 0 } reference)
        {
            var shape = Resolve(shapes, reference, account);
            return (ShapeApplication.Apply(patch, shape), shape);
        }
        if (patch.DeploymentShape is null && current?.DeploymentShape is { } kept
            && ShapeName.TryParse(kept, out var keptName, out _) && shapes.Find(keptName.ShapeId, keptName.VersionId) is { } keptShape)
        {
            var contradictions = ShapeApplication.Contradictions(patch, keptShape);
            if (contradictions.Count > 0)
            {
                throw KilnError.InvalidArgument([.. contradictions.Select(c => c with { Description = c.Description + " (or clear it with deploymentShape \"\")" })]);
            }
        }
        return (patch, null);
    }

    /// <summary>400 with the reason when <paramref name="shape"/> cannot serve <paramref name="model"/>.</summary>
    public static void RequireFit(ShapeVersion? shape, ModelRecord model)
    {
        if (shape is not null && ShapeFit.Check(shape, Facts(model)) is { } reason)
        {
            throw KilnError.InvalidArgument(new[] { new FieldViolation("deploymentShape", reason) });
        }
    }

    /// <summary>A version as the API shows it, in Fireworks' fields plus Kiln's engine settings.</summary>
    public static object Render(ShapeVersion v)
    {
        var s = v.Snapshot;
        return new
        {
            name = v.Name,
            createTime = ApiJson.Time(v.CreateTime),
            latestValidated = true,
            snapshot = new
            {
                displayName = s.DisplayName,
                description = s.Description,
                presetType = s.PresetType,
                baseModel = s.BaseModel,
                architectures = s.Architectures,
                minModelSizeMb = s.MinModelSizeMb,
                maxModelSizeMb = s.MaxModelSizeMb,
                modelType = s.ModelType,
                parameterCount = s.ParameterCount,
                acceleratorType = s.AcceleratorType.ToWireName(),
                acceleratorCount = s.AcceleratorCount,
                precision = s.Precision.ToWireName(),
                engine = s.Engine,
                enableAddons = s.EnableAddons,
                maxBatchSize = s.MaxBatchSize,
                maxContextLength = s.MaxContextLength,
                prefixCacheMb = s.PrefixCacheMb,
                draftModel = s.DraftModel,
                draftTokenCount = s.DraftTokenCount,
                ngramSpeculationLength = s.NgramSpeculationLength,
            },
        };
    }

    private static ShapeModel Facts(ModelRecord model) => new(model.Name.ToString(), model.Architecture, model.SizeBytes);

    private static IEnumerable<ShapeVersion> Visible(HttpContext ctx, ShapeCatalog shapes, string account)
    {
        var caller = Caller.Of(ctx);
        if (account == ShapeName.BuiltInAccount)
        {
            return shapes.Versions;
        }
        caller.RequireAccount(account, "account", $"accounts/{account}");
        return [];
    }

    private static async Task<ShapeModel> ModelOfAsync(HttpContext ctx, IKilnStore store, string baseModel, CancellationToken ct)
    {
        var account = Caller.Of(ctx).AccountId;
        var name = baseModel.Contains('/') ? Kiln.Core.Names.ModelName.Parse(baseModel) : new Kiln.Core.Names.ModelName(account, baseModel);
        var model = name.Account == account ? await store.GetModelAsync(name.Account, name.Model, ct) : null;
        return Facts(model ?? throw KilnError.NotFound("model", name.ToString()));
    }
}
