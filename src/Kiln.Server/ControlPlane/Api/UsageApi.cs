using System.Globalization;
using Kiln.Core.Billing;
using Kiln.Core.Errors;
using Kiln.Core.Names;
using Kiln.Core.Time;
using Kiln.Server.Auth;
using Kiln.Store;

namespace Kiln.Server.ControlPlane.Api;

/// <summary>
/// <c>GET /v1/accounts/{a}/usage?startTime=&amp;endTime=&amp;deployment=</c>: accelerator-seconds,
/// cost, requests and tokens per deployment and per API key over <c>[startTime, endTime)</c>
/// (default: the account's whole history until now).
/// </summary>
public static class UsageApi
{
    /// <summary>Maps the route.</summary>
    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/v1/accounts/{a}/usage", async (string a, HttpContext ctx, IKilnStore store, [Microsoft.AspNetCore.Mvc.FromServices] PriceTable prices, IClock clock, CancellationToken ct) =>
        {
            Caller.Of(ctx).RequireAccount(a, "account", $"accounts/{a}");
            var now = clock.UtcNow;
            var start = Time(ctx.Request, "startTime");
            var end = Time(ctx.Request, "endTime") ?? now;
            if (start > end)
            {
                throw KilnError.InvalidArgument($"startTime {ApiJson.Time(start)} is after endTime {ApiJson.Time(end)}");
            }
            var deployment = ctx.Request.Query["deployment"].ToString();
            string? deploymentId = deployment.Length == 0 ? null : DeploymentName.FromIdOrName(deployment, a) switch
            {
                { } n when n.Account == a => n.Deployment,
                var n => throw KilnError.NotFound("deployment", n.ToString()),
            };
            var window = new BillingWindow(start ?? DateTimeOffset.MinValue, end);
            var query = new UsageQuery(start, end, deploymentId);
            var lifetimes = (await store.ListReplicaUsageAsync(a, query, ct))
                .Select(u => new ReplicaLifetime(new DeploymentName(a, u.DeploymentId).ToString(), u.ReplicaId, u.AcceleratorType, u.AcceleratorCount, u.ReadyTime, u.StopTime));
            // Buckets that start in the window (UsageBuckets), so adjacent windows add up.
            var records = (await store.ListRequestUsageAsync(a, query, ct))
                .Select(u => new UsageRecord(u.Time, a, u.ApiKeyId,
                    new DeploymentName(a, u.DeploymentId).ToString(), u.Model, u.PromptTokens, u.CompletionTokens, u.Requests));
            var report = UsageReport.Build(lifetimes, records, window, now, prices);
            return ApiJson.Ok(new
            {
                startTime = start is null ? null : ApiJson.Time(start.Value),
                endTime = ApiJson.Time(end),
                acceleratorSeconds = Round(report.AcceleratorSeconds),
                cost = Round(report.Cost),
                requests = report.Usage.Requests,
                promptTokens = report.Usage.PromptTokens,
                completionTokens = report.Usage.CompletionTokens,
                deployments = report.Deployments.Select(d => new
                {
                    deployment = d.Deployment,
                    acceleratorSeconds = Round(d.AcceleratorSeconds),
                    cost = Round(d.Cost),
                    requests = d.Usage.Requests,
                    promptTokens = d.Usage.PromptTokens,
                    completionTokens = d.Usage.CompletionTokens,
                }),
                apiKeys = report.ApiKeys.Select(k => new
                {
                    apiKey = k.ApiKey,
                    requests = k.Usage.Requests,
                    promptTokens = k.Usage.PromptTokens,
                    completionTokens = k.Usage.CompletionTokens,
                }),
            });
        });

    // Milliseconds are the store's precision; a millionth of a dollar is below any price's precision.
    private static decimal Round(decimal value) => Math.Round(value, 6, MidpointRounding.AwayFromZero);

    private static DateTimeOffset? Time(HttpRequest request, string name)
    {
        var text = request.Query[name].ToString();
        if (text.Length == 0)
        {
            return null;
        }
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)
            ? t
            : throw KilnError.InvalidArgument($"{name} must be an RFC 3339 time such as 2026-11-21T09:30:00Z, got \"{text}\"");
    }
}
