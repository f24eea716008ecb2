using System.Collections.Concurrent;
using Kiln.Core.Names;
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

    // Each replica's last successful scrape as it answered it: parsed in full only if the gateway
    // falls back to it, which is rare, while the autoscaler reads just its few signals from each.
    private readonly ConcurrentDictionary<string, (DeploymentName Deployment, byte[] Body, DateTimeOffset At)> _latest = new();
    private readonly SemaphoreSlim _concurrency = new(MaxConcurrentScrapes, MaxConcurrentScrapes);

    /// <summary>
    /// Scrapes every READY replica of every route at once (bounded), keeping of each scrape only
    /// the samples <paramref name="filter"/> gives for its route (the signals its engine reports);
    /// failed scrapes are left out, so a deployment whose replicas all failed maps to an empty list.
    /// </summary>
    public async Task<Dictionary<DeploymentName, List<(string ReplicaId, PrometheusScrape Scrape)>>> ScrapeAsync(
        IReadOnlyCollection<DeploymentRoute> routes, Func<DeploymentRoute, PrometheusFilter> filter, CancellationToken ct)
    {
        var byDeployment = routes.ToDictionary(r => r.Name, _ => new List<(string, PrometheusScrape)>());
        var filters = routes.ToDictionary(r => r.Name, filter);
        foreach (var (deployment, replicaId, body) in await ScrapeAllAsync(routes, Timeout, ct))
        {
            byDeployment[deployment].Add((replicaId, PrometheusText.ParseOnly(body, filters[deployment])));
        }
        return byDeployment;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ReplicaScrape>> CurrentAsync(IEnumerable<DeploymentRoute> routes, CancellationToken ct)
    {
        var endpoints = routes.SelectMany(r => r.Endpoints.Select(e => (r.Name, Endpoint: e))).ToList();
        var now = clock.UtcNow;
        var live = (await ScrapeAllAsync(routes, LiveTimeout, ct))
            .ToDictionary(s => s.ReplicaId, s => new ReplicaScrape(s.Deployment, s.ReplicaId, PrometheusText.Parse(s.Body), now, Live: true));
        var scrapes = new List<ReplicaScrape>();
        foreach (var (_, endpoint) in endpoints)
        {
            var id = endpoint.ReplicaId;
            if (live.TryGetValue(id, out var scrape))
            {
                scrapes.Add(scrape);
            }
            else if (_latest.TryGetValue(id, out var last))
            {
                scrapes.Add(new ReplicaScrape(last.Deployment, id, PrometheusText.Parse(last.Body), last.At, Live: false));
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

    // Scrapes every endpoint at once and keeps the answers, each also as its replica's latest.
    private async Task<List<(DeploymentName Deployment, string ReplicaId, byte[] Body)>> ScrapeAllAsync(IEnumerable<DeploymentRoute> routes, TimeSpan timeout, CancellationToken ct)
    {
        var endpoints = routes.SelectMany(r => r.Endpoints.Select(e => (r.Name, Endpoint: e))).ToList();
        var results = await Task.WhenAll(endpoints.Select(x => ScrapeOneAsync(x.Endpoint, timeout, ct)));
        var now = clock.UtcNow;
        var scrapes = new List<(DeploymentName, string, byte[])>(endpoints.Count);
        for (var i = 0; i < endpoints.Count; i++)
        {
            if (results[i] is { } body)
            {
                var (deployment, endpoint) = endpoints[i];
                _latest[endpoint.ReplicaId] = (deployment, body, now);
                scrapes.Add((deployment, endpoint.ReplicaId, body));
            }
        }
        return scrapes;
    }

    private async Task<byte[]?> ScrapeOneAsync(ReplicaEndpoint e, TimeSpan timeout, CancellationToken ct)
    {
        await _concurrency.WaitAsync(ct);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            return await client.Http.GetByteArrayAsync(e.For("metrics"), cts.Token);
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
