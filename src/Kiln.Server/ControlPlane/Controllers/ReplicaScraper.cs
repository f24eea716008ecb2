using System.Collections.Concurrent;
using Kiln.Core.Names;
using Kiln.Core.Time;
using Kiln.Server.Gateway;

namespace Kiln.Server.ControlPlane.Controllers;

/// <summary>
/// Scrapes replicas' <c>/metrics</c>: for the autoscaler, and live for the gateway's <c>/metrics</c>,
/// which falls back to each replica's last live scrape when it is slow to answer.
/// </summary>
public sealed class ReplicaScraper(ReplicaClient client, IClock clock, ILogger<ReplicaScraper> log) : IReplicaScrapes
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    // Short, so a stuck replica delays the gateway's /metrics by at most this much.
    private static readonly TimeSpan LiveTimeout = TimeSpan.FromSeconds(1);

    // Scrapes in flight at once: enough to hide latency, few enough not to flood a small machine
    // (or the replicas' nodes) when thousands of replicas are scraped in one pass.
    private const int MaxConcurrentScrapes = 64;

    // Each replica's last successful live scrape as it answered it, for the gateway's fallback. The
    // autoscaler's scrapes are not kept: tens of thousands of bodies renewed every pass would keep
    // the collector busy for a fallback the gateway's own scrapes already feed.
    private readonly ConcurrentDictionary<string, (DeploymentName Deployment, byte[] Body, DateTimeOffset At)> _latest = new();
    private readonly SemaphoreSlim _concurrency = new(MaxConcurrentScrapes, MaxConcurrentScrapes);

    // The workers' buffers, kept between passes.
    private readonly ConcurrentBag<ScrapeBuffer> _buffers = [];

    /// <summary>
    /// Scrapes every READY replica of every route at once (bounded), keeping of each scrape only
    /// the samples <paramref name="filter"/> gives for its route (the signals its engine reports);
    /// failed scrapes are left out, so a deployment whose replicas all failed maps to an empty list.
    /// </summary>
    public async Task<Dictionary<DeploymentName, List<(string ReplicaId, PrometheusScrape Scrape)>>> ScrapeAsync(
        IReadOnlyCollection<DeploymentRoute> routes, Func<DeploymentRoute, PrometheusFilter> filter, CancellationToken ct)
    {
        var targets = routes.Select(r => (Route: r, Filter: filter(r))).SelectMany(r => r.Route.Endpoints.Select(e => (r.Route, Endpoint: e, r.Filter))).ToList();
        var parsed = new PrometheusScrape?[targets.Count];
        // Parsed where it was read, so no body outlives its scrape.
        await ScrapeEachAsync(targets.Select(t => t.Endpoint).ToList(), Timeout, (i, body) => parsed[i] = PrometheusText.ParseOnly(body, targets[i].Filter), ct);
        var byDeployment = routes.ToDictionary(r => r.Name, _ => new List<(string, PrometheusScrape)>());
        for (var i = 0; i < targets.Count; i++)
        {
            if (parsed[i] is { } scrape)
            {
                byDeployment[targets[i].Route.Name].Add((targets[i].Endpoint.ReplicaId, scrape));
            }
        }
        return byDeployment;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ReplicaScrape>> CurrentAsync(IEnumerable<DeploymentRoute> routes, CancellationToken ct)
    {
        var endpoints = routes.SelectMany(r => r.Endpoints.Select(e => (r.Name, Endpoint: e))).ToList();
        var bodies = new byte[]?[endpoints.Count];
        await ScrapeEachAsync(endpoints.Select(x => x.Endpoint).ToList(), LiveTimeout, (i, body) => bodies[i] = body.ToArray(), ct);
        var now = clock.UtcNow;
        var scrapes = new List<ReplicaScrape>();
        for (var i = 0; i < endpoints.Count; i++)
        {
            var (deployment, endpoint) = endpoints[i];
            var id = endpoint.ReplicaId;
            if (bodies[i] is { } body)
            {
                _latest[id] = (deployment, body, now);
                scrapes.Add(new ReplicaScrape(deployment, id, PrometheusText.Parse(body), now, Live: true));
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
        // Called every autoscaler pass; most servers' gateways are never scraped, so usually nothing is kept.
        if (_latest.IsEmpty)
        {
            return;
        }
        var keep = readyReplicaIds.ToHashSet();
        foreach (var id in _latest.Keys.Where(k => !keep.Contains(k)))
        {
            _latest.TryRemove(id, out _);
        }
    }

    // What becomes of one answered scrape; the body is only valid during the call.
    private delegate void BodyRead(int index, ReadOnlySpan<byte> body);

    /// <summary>
    /// Scrapes every endpoint, at most <see cref="MaxConcurrentScrapes"/> at once over all callers,
    /// and hands each answer to <paramref name="read"/> with its index; failures are logged and skipped.
    /// A few workers walk the list, each reading into a buffer of its own, so a pass over tens of
    /// thousands of replicas allocates per worker, not per scrape.
    /// </summary>
    private async Task ScrapeEachAsync(IReadOnlyList<ReplicaEndpoint> endpoints, TimeSpan timeout, BodyRead read, CancellationToken ct)
    {
        var next = -1;
        var workers = new Task[Math.Min(MaxConcurrentScrapes, endpoints.Count)];
        for (var w = 0; w < workers.Length; w++)
        {
            workers[w] = WorkAsync();
        }
        await Task.WhenAll(workers);

        async Task WorkAsync()
        {
            var buffer = _buffers.TryTake(out var kept) ? kept : new ScrapeBuffer();
            var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            try
            {
                for (int i; (i = Interlocked.Increment(ref next)) < endpoints.Count;)
                {
                    await _concurrency.WaitAsync(ct);
                    try
                    {
                        if (!cts.TryReset())
                        {
                            cts.Dispose();
                            cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
                        }
                        cts.CancelAfter(timeout);
                        if (await ReadAsync(endpoints[i], buffer, cts.Token, ct) is { } length)
                        {
                            read(i, buffer.Bytes.AsSpan(0, length));
                        }
                    }
                    finally
                    {
                        _concurrency.Release();
                    }
                }
            }
            finally
            {
                cts.Dispose();
                _buffers.Add(buffer);
            }
        }
    }

    // The body's length in buffer, or null when the scrape failed or timed out (token) but the caller goes on (ct).
    private async Task<int?> ReadAsync(ReplicaEndpoint e, ScrapeBuffer buffer, CancellationToken token, CancellationToken ct)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, e.For("metrics"));
            using var response = await client.Invoker.SendAsync(request, token);
            response.EnsureSuccessStatusCode();
            await using var body = await response.Content.ReadAsStreamAsync(token);
            return await buffer.FillAsync(body, token);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or InvalidDataException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            log.LogDebug("scraping replica {Replica} failed: {Error}", e.ReplicaId, ex.Message);
            return null;
        }
    }
}
