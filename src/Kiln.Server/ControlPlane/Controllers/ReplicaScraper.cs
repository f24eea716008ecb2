using System.Collections.Concurrent;
using Kiln.Core.Names;
using Kiln.Server.Gateway;

namespace Kiln.Server.ControlPlane.Controllers;

/// <summary>
/// Scrapes replicas' <c>/metrics</c> for the autoscaler and keeps each replica's latest scrape,
/// which the gateway's <c>/metrics</c> re-exports.
/// </summary>
public sealed class ReplicaScraper(ReplicaClient client, ILogger<ReplicaScraper> log) : IReplicaScrapes
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<string, (DeploymentName Deployment, PrometheusScrape Scrape)> _latest = new();

    /// <inheritdoc />
    public IEnumerable<(DeploymentName Deployment, string ReplicaId, PrometheusScrape Scrape)> Latest =>
        _latest.Select(kv => (kv.Value.Deployment, kv.Key, kv.Value.Scrape));

    /// <summary>Scrapes every READY replica of <paramref name="route"/> at once; failed scrapes are left out.</summary>
    public async Task<IReadOnlyList<(string ReplicaId, PrometheusScrape Scrape)>> ScrapeAsync(DeploymentRoute route, CancellationToken ct)
    {
        var endpoints = route.Endpoints;
        var results = await Task.WhenAll(endpoints.Select(e => ScrapeOneAsync(e, ct)));
        var scrapes = new List<(string, PrometheusScrape)>();
        for (var i = 0; i < endpoints.Count; i++)
        {
            if (results[i] is { } s)
            {
                _latest[endpoints[i].ReplicaId] = (route.Name, s);
                scrapes.Add((endpoints[i].ReplicaId, s));
            }
        }
        return scrapes;
    }

    /// <summary>Drops replicas no longer READY.</summary>
    public void Retain(IEnumerable<string> readyReplicaIds)
    {
        var keep = readyReplicaIds.ToHashSet();
        foreach (var id in _latest.Keys.Where(k => !keep.Contains(k)))
        {
            _latest.TryRemove(id, out _);
        }
    }

    private async Task<PrometheusScrape?> ScrapeOneAsync(ReplicaEndpoint e, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(Timeout);
        try
        {
            var text = await client.Http.GetStringAsync(new Uri(e.BaseUri, "metrics"), cts.Token);
            return PrometheusText.Parse(text);
        }
        catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            log.LogDebug("scraping replica {Replica} failed: {Error}", e.ReplicaId, ex.Message);
            return null;
        }
    }
}
