using System.Text;
using Kiln.Core.Errors;
using Kiln.Server.Auth;
using Kiln.Server.Signals;

namespace Kiln.Server.Gateway;

/// <summary>
/// <c>GET /metrics</c> (admin keys only: it spans accounts): the gateway's counters per deployment
/// and every READY replica's metrics, scraped live and re-labelled with its deployment and replica.
/// A replica that does not answer in time contributes its last scrape, each sample stamped with
/// that scrape's time so that rates over it stay true.
/// </summary>
public static class MetricsRoute
{
    /// <summary>Maps the route.</summary>
    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/metrics", async (HttpContext ctx, ReplicaDirectory directory, IReplicaScrapes scrapes, Leadership leadership) =>
        {
            if (!Caller.Of(ctx).IsAdmin)
            {
                throw KilnError.PermissionDenied("/metrics spans every account and needs an admin API key");
            }
            var routes = directory.Routes.ToList();
            var current = await scrapes.CurrentAsync(routes, ctx.RequestAborted);
            return Results.Text(RenderLeader(leadership) + Render(routes, current), "text/plain; version=0.0.4; charset=utf-8");
        });

    /// <summary>Which server instance answered and whether it leads (runs the controllers).</summary>
    public static string RenderLeader(Leadership leadership)
    {
        var sb = new StringBuilder();
        PrometheusText.AppendHeader(sb, "kiln_leader", "gauge", "1 when this server instance holds the leader lease and runs the controllers, else 0.");
        PrometheusText.AppendSample(sb, "kiln_leader", [new("instance", leadership.InstanceId)], leadership.IsLeader ? 1 : 0);
        return sb.ToString();
    }

    /// <summary>The exposition text.</summary>
    public static string Render(IEnumerable<DeploymentRoute> deployments, IEnumerable<ReplicaScrape> scrapes)
    {
        var sb = new StringBuilder();
        var routes = deployments.OrderBy(r => r.Name.ToString(), StringComparer.Ordinal).ToList();
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

        // Each replica family once, HELP and TYPE as the replicas wrote them, then every replica's
        // samples in their own order (so a histogram's buckets, sum and count stay together).
        var replicaSamples = scrapes
            .OrderBy(x => x.Deployment.ToString(), StringComparer.Ordinal).ThenBy(x => x.ReplicaId, StringComparer.Ordinal)
            .SelectMany(x =>
            {
                KeyValuePair<string, string>[] labels = [L("deployment", x.Deployment.ToString()), L("replica", x.ReplicaId)];
                return x.Scrape.Samples.Select(s => (Replica: x, Labels: labels, Sample: s));
            })
            .GroupBy(x => Family(x.Sample.Name, x.Replica.Scrape.Types))
            .OrderBy(g => g.Key, StringComparer.Ordinal);
        foreach (var family in replicaSamples)
        {
            var scraped = family.Select(x => x.Replica.Scrape).ToList();
            var type = scraped.Select(s => s.Types.GetValueOrDefault(family.Key)).FirstOrDefault(t => t is not null) ?? "untyped";
            var help = scraped.Select(s => s.Helps?.GetValueOrDefault(family.Key)).FirstOrDefault(h => h is not null);
            PrometheusText.AppendHeader(sb, family.Key, type, help);
            foreach (var (replica, labels, sample) in family)
            {
                PrometheusText.AppendSample(sb, sample.Name, labels.Concat(sample.Labels), sample.Value, replica.Live ? null : replica.At.ToUnixTimeMilliseconds());
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
