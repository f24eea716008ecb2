using Kiln.Core.Catalog;
using Kiln.Core.Errors;
using Kiln.Server.ControlPlane.Api;
using Microsoft.AspNetCore.Mvc;

namespace Kiln.Server.ControlPlane.Catalog;

/// <summary><c>GET /v1/catalog</c> and <c>GET /v1/catalog/{id}</c>: the models <c>import model</c> can fetch by ID.</summary>
public static class CatalogApi
{
    /// <summary>Maps the routes.</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/catalog", (HttpContext ctx, [FromServices] ModelCatalog catalog) =>
        {
            var entries = catalog.Search(ctx.Request.Query["name"].ToString());
            return ApiJson.Ok(new { models = entries.Select(Render), totalSize = entries.Count });
        });
        app.MapGet("/v1/catalog/{id}", (string id, [FromServices] ModelCatalog catalog) =>
            ApiJson.Ok(Render(catalog.Find(id) ?? throw KilnError.NotFound("catalog model", id))));
    }

    /// <summary>An entry as the API shows it.</summary>
    public static object Render(CatalogEntry e) => new
    {
        id = e.Id,
        name = e.Name,
        description = e.Description,
        source = e.Source.Text,
        quantization = e.Quantization,
        architecture = e.Architecture,
        license = e.License,
        contextLength = e.ContextLength,
        chatTemplate = e.ChatTemplate,
        sizeBytes = e.SizeBytes,
        sizeIsApproximate = e.SizeIsApproximate,
        sha256 = e.Sha256,
        unverified = e.Unverified,
    };
}
