using Kiln.Server.Auth;

namespace Kiln.Server.ControlPlane.Api;

/// <summary><c>GET /v1/whoami</c>.</summary>
public static class IdentityApi
{
    /// <summary>Maps the route.</summary>
    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/v1/whoami", (HttpContext ctx) =>
        {
            var c = Caller.Of(ctx);
            return ApiJson.Ok(new { account = $"accounts/{c.AccountId}", accountId = c.AccountId, apiKeyId = c.KeyId, admin = c.IsAdmin });
        });
}
