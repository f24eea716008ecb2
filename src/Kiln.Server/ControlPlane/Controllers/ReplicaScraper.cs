using System.Collections.Concurrent;
using Kiln.Core.Time;
using Kiln.Server.Gateway;

namespace Kiln.Server.ControlPlane.Controllers;

/// <summary>
/// Scrapes replicas' <c>/metrics</c>: for the autoscaler, and live for the gateway's <c>/metrics</c>,
/// which falls back to each replica's last scrape when it is slow to answer.
/// </summary>
public sealed class ReplicaScraper(ReplicaClient client, IClock clock, ILogger<ReplicaScraper> log) : IReplicaScrapes
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    // Short, so a stuck replica delays the gateway's /metrics by at most this much.
    private static readonly TimeSpan LiveTimeout = TimeSpan.FromSeconds(1);

    // Scrapes in flight at once: enough to hide latency, few enough not to flood a small machine
    // (or the replicas' nodes) when thousands of replicas are scraped in one pass.
    private const int MaxConcurrentScrapes = 64;

    private readonly ConcurrentDictionary<string, ReplicaScrape> _latest = new();
    private readonly SemaphoreSlim _concurrency = new(MaxConcurrentScrapes, MaxConcurrentScrapes);

    /// <summary>
    /// Scrapes every READY replica of every route at once (bounded); failed scrapes are left out,
    /// so a deployment whose replicas all failed maps to an empty list.
    /// </summary>
    public async Task<Dictionary<Kiln.Core.Names.DeploymentName, List<(string ReplicaId, PrometheusScrape Scrape)>>> ScrapeAsync(
        IReadOnlyCollection<DeploymentRoute> routes, CancellationToken ct)
    {
        var byDeployment = routes.ToDictionary(r => r.Name, _ => new List<(string, PrometheusScrape)>());
        foreach (var s in await ScrapeAllAsync(routes, Timeout, ct))
        {
            byDeployment[s.Deployment].Add((s.ReplicaId, s.Scrape));
        }
        return byDeployment;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ReplicaScrape>> CurrentAsync(IEnumerable<DeploymentRoute> routes, CancellationToken ct)
    {
        var endpoints = routes.SelectMany(r => r.Endpoints.Select(e => (r.Name, Endpoint: e))).ToList();
        var live = (await ScrapeAllAsync(routes, LiveTimeout, ct)).ToDictionary(s => s.ReplicaId);
        return endpoints
            .Select(x => live.GetValueOrDefault(x.Endpoint.ReplicaId) ?? _latest.GetValueOrDefault(x.Endpoint.ReplicaId))
            .OfType<ReplicaScrape>()
            .ToList();
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

    // Scrapes every endpoint at once and keeps the successes (Live) as each replica's latest;
    // fallbacks are marked not live.
    private async Task<List<ReplicaScrape>> ScrapeAllAsync(IEnumerable<DeploymentRoute> routes, TimeSpan timeout, CancellationToken ct)
    {
        var endpoints = routes.SelectMany(r => r.Endpoints.Select(e => (r.Name, Endpoint: e))).ToList();
        var results = await Task.WhenAll(endpoints.Select(x => ScrapeOneAsync(x.Endpoint, timeout, ct)));
        var scrapes = new List<ReplicaScrape>();
        for (var i = 0; i < endpoints.Count; i++)
        {
            if (results[i] is { } s)
            {
                var (deployment, endpoint) = endpoints[i];
                var scrape = new ReplicaScrape(deployment, endpoint.ReplicaId, s, clock.UtcNow, Live: true);
                _latest[endpoint.ReplicaId] = scrape with { Live = false };
                scrapes.Add(scrape);
            }
        }
        return scrapes;
    }

    private async Task<PrometheusScrape?> ScrapeOneAsync(ReplicaEndpoint e, TimeSpan timeout, CancellationToken ct)
    {
        await _concurrency.WaitAsync(ct);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
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
        finally
        {
            _concurrency.Release();
        }
    }
}
