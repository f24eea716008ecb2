using System.Text;
using Kiln.Core.Errors;
using Kiln.Server.Auth;

namespace Kiln.Server.Gateway;

/// <summary>
/// <c>GET /metrics</c> (admin keys only: it spans accounts): the gateway's counters per deployment
/// and every READY replica's latest scrape, re-labelled with its deployment and replica.
/// </summary>
public static class MetricsRoute
{
    /// <summary>Maps the route.</summary>
    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/metrics", (HttpContext ctx, ReplicaDirectory directory, IReplicaScrapes scrapes) =>
        {
            if (!Caller.Of(ctx).IsAdmin)
            {
                throw KilnError.PermissionDenied("/metrics spans every account and needs an admin API key");
            }
            return Results.Text(Render(directory, scrapes), "text/plain; version=0.0.4; charset=utf-8");
        });

    /// <summary>The exposition text.</summary>
    public static string Render(ReplicaDirectory directory, IReplicaScrapes scrapes)
    {
        var sb = new StringBuilder();
        var routes = directory.Routes.OrderBy(r => r.Name.ToString(), StringComparer.Ordinal).ToList();
        static KeyValuePair<string, string> L(string k, string v) => new(k, v);

        PrometheusText.AppendHeader(sb, "kiln_gateway_requests_total", "counter", "Inference requests finished, by HTTP status (499: the client went away).");
        foreach (var r in routes)
        {
            foreach (var (status, n) in r.Counters.ByStatus.OrderBy(kv => kv.Key))
            {
                PrometheusText.AppendSample(sb, "kiln_gateway_requests_total", [L("deployment", r.Name.ToString()), L("code", status.ToString(System.Globalization.CultureInfo.InvariantCulture))], n);
            }
        }
        Family(sb, routes, "kiln_gateway_requests_in_flight", "gauge", "Requests between arrival and their last byte, held ones included.", r => r.Counters.InFlight);
        Family(sb, routes, "kiln_gateway_requests_held", "gauge", "Requests waiting for a replica to become ready.", r => r.Held.Count);
        Family(sb, routes, "kiln_gateway_ready_replicas", "gauge", "READY replicas the gateway balances over.", r => r.Endpoints.Count);
        Family(sb, routes, "kiln_gateway_prompt_tokens_total", "counter", "Prompt tokens of served requests.", r => r.Counters.PromptTokens);
        Family(sb, routes, "kiln_gateway_completion_tokens_total", "counter", "Generated tokens of served requests.", r => r.Counters.CompletionTokens);

        PrometheusText.AppendHeader(sb, "kiln_gateway_request_duration_seconds", "histogram", "Time from arrival to the last byte, holding included.");
        foreach (var r in routes)
        {
            var (buckets, sum, count) = r.Counters.Durations();
            var name = r.Name.ToString();
            long cumulative = 0;
            for (var i = 0; i < buckets.Length; i++)
            {
                cumulative += buckets[i];
                PrometheusText.AppendSample(sb, "kiln_gateway_request_duration_seconds_bucket",
                    [L("deployment", name), L("le", PrometheusText.FormatValue(DeploymentCounters.DurationBuckets[i]))], cumulative);
            }
            PrometheusText.AppendSample(sb, "kiln_gateway_request_duration_seconds_bucket", [L("deployment", name), L("le", "+Inf")], count);
            PrometheusText.AppendSample(sb, "kiln_gateway_request_duration_seconds_sum", [L("deployment", name)], sum);
            PrometheusText.AppendSample(sb, "kiln_gateway_request_duration_seconds_count", [L("deployment", name)], count);
        }

        // Replica samples grouped by family, so each family's TYPE line comes once, before its samples.
        var replicaSamples = scrapes.Latest
            .SelectMany(x => x.Scrape.Samples.Select(s => (x.Deployment, x.ReplicaId, x.Scrape, Sample: s)))
            .GroupBy(x => Family(x.Sample.Name, x.Scrape.Types))
            .OrderBy(g => g.Key, StringComparer.Ordinal);
        foreach (var family in replicaSamples)
        {
            var type = family.First().Scrape.Types.GetValueOrDefault(family.Key, "untyped");
            PrometheusText.AppendHeader(sb, family.Key, type);
            foreach (var x in family.OrderBy(x => x.Deployment.ToString(), StringComparer.Ordinal).ThenBy(x => x.ReplicaId, StringComparer.Ordinal))
            {
                PrometheusText.AppendSample(sb, x.Sample.Name, [L("deployment", x.Deployment.ToString()), L("replica", x.ReplicaId), .. x.Sample.Labels], x.Sample.Value);
            }
        }
        return sb.ToString();
    }

    private static void Family(StringBuilder sb, List<DeploymentRoute> routes, string name, string type, string help, Func<DeploymentRoute, double> value)
    {
        PrometheusText.AppendHeader(sb, name, type, help);
        foreach (var r in routes)
        {
            PrometheusText.AppendSample(sb, name, [new("deployment", r.Name.ToString())], value(r));
        }
    }

    // Histogram and summary samples belong to the family their TYPE line names.
    private static string Family(string sample, IReadOnlyDictionary<string, string> types)
    {
        foreach (var suffix in new[] { "_bucket", "_sum", "_count" })
        {
            if (sample.EndsWith(suffix, StringComparison.Ordinal) && types.ContainsKey(sample[..^suffix.Length]))
            {
                return sample[..^suffix.Length];
            }
        }
        return sample;
    }
}
