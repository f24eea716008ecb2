using Kiln.Core.Auth;
using Kiln.Core.Errors;
using Kiln.Core.Names;
using Kiln.Server.Auth;
using Kiln.Store;

namespace Kiln.Server.ControlPlane.Api;

/// <summary><c>/v1/accounts/{a}/apiKeys</c>: create, list, delete. Keys are stored only as hashes.</summary>
public static class ApiKeysApi
{
    /// <summary>Maps the routes.</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/accounts/{a}/apiKeys", async (string a, HttpContext ctx, IKilnStore store, CancellationToken ct) =>
        {
            Caller.Of(ctx).RequireAccount(a, "account", $"accounts/{a}");
            var body = await ApiJson.ReadObjectAsync(ctx.Request, ct);
            var key = ApiKeys.Generate();
            var record = await store.CreateApiKeyAsync(new NewApiKey(a, NewKeyId(), ApiKeys.Hash(key), JsonFields.String(body, "displayName")), ct);
            return ApiJson.Ok(new { keyId = record.Id, key, displayName = record.DisplayName, createTime = ApiJson.Time(record.CreateTime) });
        });

        app.MapGet("/v1/accounts/{a}/apiKeys", async (string a, HttpContext ctx, IKilnStore store, CancellationToken ct) =>
        {
            Caller.Of(ctx).RequireAccount(a, "account", $"accounts/{a}");
            var page = await store.ListApiKeysAsync(a, ApiJson.Page(ctx.Request), ct);
            return ApiJson.Ok(new
            {
                apiKeys = page.Items.Select(k => new
                {
                    keyId = k.Id,
                    displayName = k.DisplayName,
                    createTime = ApiJson.Time(k.CreateTime),
                    lastUseTime = ApiJson.Time(k.LastUsedTime),
                }),
                nextPageToken = page.NextPageToken ?? "",
                totalSize = page.TotalSize,
            });
        });

        app.MapDelete("/v1/accounts/{a}/apiKeys/{k}", async (string a, string k, HttpContext ctx, IKilnStore store, ApiKeyCache cache, CancellationToken ct) =>
        {
            var name = $"accounts/{a}/apiKeys/{k}";
            Caller.Of(ctx).RequireAccount(a, "API key", name);
            if (!await store.DeleteApiKeyAsync(a, k, ct))
            {
                throw KilnError.NotFound("API key", name);
            }
            cache.Revoke(a, k);
            return ApiJson.Ok(new { });
        });
    }

    /// <summary>A fresh key ID, "key-" and 8 random characters.</summary>
    public static string NewKeyId() => "key-" + ResourceNames.NewDeploymentId();
}
