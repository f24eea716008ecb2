using Kiln.Core.Errors;
using Kiln.Core.History;
using Kiln.Core.Time;
using Kiln.Server.Auth;
using Kiln.Store;

namespace Kiln.Server.ControlPlane.Api;

/// <summary>
/// <c>GET /v1/accounts/{a}/deployments/{d}/history?window=1h</c>: the deployment's samples over
/// the last hour (up to a day), merged into at most <see cref="HistoryWindow.MaxPoints"/> points.
/// </summary>
public static class HistoryApi
{
    /// <summary>Maps the route.</summary>
    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/v1/accounts/{a}/deployments/{d}/history", async (string a, string d, HttpContext ctx, IKilnStore store, IClock clock, CancellationToken ct) =>
        {
            var name = $"accounts/{a}/deployments/{d}";
            Caller.Of(ctx).RequireAccount(a, "deployment", name);
            var window = HistoryWindow.Parse(ctx.Request.Query["window"].ToString());
            var deployment = await store.GetDeploymentAsync(a, d, ct) ?? throw KilnError.NotFound("deployment", name);
            var end = clock.UtcNow;
            var start = end - window;
            var points = HistoryWindow.Downsample(await store.ListDeploymentHistoryAsync(a, d, start, end, ct), start, end);
            return ApiJson.Ok(new
            {
                deployment = name,
                startTime = ApiJson.Time(start),
                endTime = ApiJson.Time(end),
                loadTargets = deployment.Spec.AutoscalingPolicy.LoadTargets,
                points = points.Select(p => new
                {
                    time = ApiJson.Time(p.Time),
                    replicas = p.Replicas,
                    desiredReplicas = p.DesiredReplicas,
                    load = p.Load,
                    loadTarget = p.LoadTarget,
                    heldRequests = p.HeldRequests,
                    requestsPerSecond = p.RequestsPerSecond,
                    tokensPerSecond = p.TokensPerSecond,
                    p50LatencySeconds = p.P50LatencySeconds,
                    p99LatencySeconds = p.P99LatencySeconds,
                }),
            });
        });
}
