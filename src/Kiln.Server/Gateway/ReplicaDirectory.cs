using System.Collections.Frozen;
using Kiln.Core.Deployments;
using Kiln.Core.Engines;
using Kiln.Core.Models;
using Kiln.Core.Names;
using Kiln.Core.Replicas;
using Kiln.Store;

namespace Kiln.Server.Gateway;

/// <summary>
/// The in-memory routing table: every live deployment with its READY replicas, re-read from the
/// store every second (sooner when asked) when the store's routing generation says something it
/// holds changed, so the request path never touches the store and an idle refresh is one small read.
/// </summary>
public sealed class ReplicaDirectory
{
    private readonly IKilnStore _store;
    private readonly GatewayOptions _options;
    private readonly EngineCatalog _engines;
    private readonly NewReplicaGate _newReplicas;
    private readonly Dictionary<DeploymentName, DeploymentRoute> _routes = [];
    // Only refreshes touch it, one at a time (under the refresh lock).
    private readonly Dictionary<string, (string Host, int Port, Uri Uri)> _uris = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _refreshLock = new(1, 1);
    private readonly SemaphoreSlim _prompt = new(0, 1);
    private long _refreshedAt = long.MinValue;
    // The store's routing generation the table was last read at (none before the first read).
    private long? _generation;
    private long _pendingStarted;
    private Task? _pending;
    private volatile Snapshot _snapshot = new(FrozenDictionary<DeploymentName, DeploymentRoute>.Empty, FrozenDictionary<string, DeploymentRoute[]>.Empty);

    /// <summary>
    /// A directory of <paramref name="store"/>'s deployments whose new replicas <paramref name="opener"/>
    /// connects to before they are routed to, as many connections as the deployment's engine in
    /// <paramref name="engines"/> runs sequences at once.
    /// </summary>
    public ReplicaDirectory(IKilnStore store, GatewayOptions options, EngineCatalog engines, ReplicaConnectionOpener opener)
    {
        _store = store;
        _options = options;
        _engines = engines;
        _newReplicas = new NewReplicaGate(opener.OpenAsync, Prompt);
    }

    private sealed record Snapshot(FrozenDictionary<DeploymentName, DeploymentRoute> ByName, FrozenDictionary<string, DeploymentRoute[]> ByModel);

    /// <summary>Every route of the last refresh.</summary>
    public IEnumerable<DeploymentRoute> Routes => _snapshot.ByName.Values;

    /// <summary>The route of a deployment, or null.</summary>
    public DeploymentRoute? Find(DeploymentName name) => _snapshot.ByName.GetValueOrDefault(name);

    /// <summary>The deployments that serve <paramref name="model"/> (<c>accounts/A/models/M</c>), as base model or as a deployed addon.</summary>
    public IReadOnlyList<DeploymentRoute> Serving(string model) => _snapshot.ByModel.GetValueOrDefault(model) ?? [];

    /// <summary>Asks the refresher for a pass soon (coalesced).</summary>
    public void Prompt()
    {
        try
        {
            _prompt.Release();
        }
        catch (SemaphoreFullException)
        {
        }
    }

    /// <summary>Waits for <see cref="Prompt"/> or the refresh interval.</summary>
    public Task WaitForPromptAsync(CancellationToken ct) => _prompt.WaitAsync(_options.DirectoryRefresh, ct);

    /// <summary>
    /// Makes sure a refresh that began after <paramref name="since"/> (a <see cref="System.Diagnostics.Stopwatch"/>
    /// timestamp) has finished: a name the table does not know may be a deployment created since
    /// the last refresh. Concurrent callers share one refresh.
    /// </summary>
    public Task RefreshSinceAsync(long since)
    {
        if (Volatile.Read(ref _refreshedAt) >= since)
        {
            return Task.CompletedTask;
        }
        lock (_refreshLock)
        {
            if (_pending is { IsCompleted: false } pending && _pendingStarted >= since)
            {
                return pending;
            }
            _pendingStarted = System.Diagnostics.Stopwatch.GetTimestamp();
            return _pending = RefreshAsync(CancellationToken.None);
        }
    }

    /// <summary>Re-reads deployments and replicas from the store.</summary>
    public async Task RefreshAsync(CancellationToken ct)
    {
        await _refreshLock.WaitAsync(ct);
        try
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            // Read before the rows it covers: a change committed after it moves it again, so the
            // next refresh reads that change; unmoved, nothing this table holds has changed.
            var generation = await _store.GetRoutingGenerationAsync(ct);
            // A replica left out until its connections were open is routed to by the refresh after.
            if (generation == _generation && !_newReplicas.HoldsBack)
            {
                Volatile.Write(ref _refreshedAt, started);
                return;
            }
            _newReplicas.BeginRefresh();
            var deployments = await _store.ListLiveDeploymentsAsync(ct);
            var replicas = (await _store.ListAllReplicasAsync(ct))
                .Where(r => r.Phase == ReplicaPhase.Ready && r.Port is not null)
                .ToLookup(r => new DeploymentName(r.Account, r.DeploymentId));
            // Every deployed model in one read, only when some deployment takes addons at all.
            var addons = deployments.Any(d => d.Spec.EnableAddons)
                ? (await _store.ListAllDeployedModelsAsync(ct)).ToLookup(m => new DeploymentName(m.Account, m.DeploymentId))
                : null;
            var live = new HashSet<DeploymentName>();
            foreach (var d in deployments)
            {
                var name = d.Name;
                live.Add(name);
                if (!_routes.TryGetValue(name, out var route))
                {
                    route = new DeploymentRoute(name, _options.MaxHeldRequests);
                    _routes[name] = route;
                }
                // A replica gets as many connections as it runs sequences at once (its engine's batch when unset).
                var connections = _engines.For(d.Spec.Engine).ForDeployment(d.Spec.MaxBatchSize).MaxBatch;
                var ready = replicas[name].Select(r => (r.ReplicaId, BaseUri(r.ReplicaId, r.Host ?? "127.0.0.1", r.Port!.Value)))
                    .Where(r => _newReplicas.Routable(r.ReplicaId, r.Item2, connections)).ToList();
                route.Update(d, ready);
                if (d.Spec.EnableAddons)
                {
                    var (deployed, failed) = Addons(addons![name]);
                    route.SetAddons(deployed, failed);
                }
                else
                {
                    route.SetAddons(new HashSet<string>());
                }
            }
            // Forget the addresses of replicas gone, now and then rather than on every refresh.
            var readyNow = replicas.Sum(g => g.Count());
            if (_uris.Count > 2 * readyNow + 64)
            {
                var ready = replicas.SelectMany(g => g).Select(r => r.ReplicaId).ToHashSet();
                foreach (var id in _uris.Keys.Where(id => !ready.Contains(id)).ToList())
                {
                    _uris.Remove(id);
                }
                _newReplicas.Forget(ready);
            }
            _newReplicas.EndRefresh();
            foreach (var gone in _routes.Keys.Where(k => !live.Contains(k)).ToList())
            {
                _routes.Remove(gone, out var route);
                route!.SignalChange();
            }
            _snapshot = new Snapshot(
                _routes.ToFrozenDictionary(),
                _routes.Values.Where(r => r.IsServing).SelectMany(r => r.Addons.Append(r.Model).Select(m => (Model: m, Route: r))).GroupBy(x => x.Model, x => x.Route)
                    .ToFrozenDictionary(g => g.Key, g => g.OrderBy(r => r.Name.Deployment, StringComparer.Ordinal).ToArray()));
            _generation = generation;
            Volatile.Write(ref _refreshedAt, started);
        }
        finally
        {
            _refreshLock.Release();
        }
    }

    /// <summary>The addons DEPLOYED on a deployment (of its <paramref name="records"/>), and those still DEPLOYING because a replica refused them, with why.</summary>
    private static (IReadOnlySet<string> Deployed, IReadOnlyDictionary<string, string> Failed) Addons(IEnumerable<DeployedModelRecord> records)
    {
        var deployed = records.Where(m => m.State == DeployedModelState.Deployed).Select(m => m.ModelName).ToHashSet(StringComparer.Ordinal);
        var failed = records.Where(m => m.State == DeployedModelState.Deploying && m.Status is not null)
            .ToDictionary(m => m.ModelName, m => m.Status!.Message, StringComparer.Ordinal);
        return (deployed, failed);
    }

    // A replica's address as a URI, made again only when it moved: parsing one for every replica on
    // every refresh was a large part of a refresh's cost with tens of thousands of replicas.
    private Uri BaseUri(string replicaId, string host, int port)
    {
        if (_uris.TryGetValue(replicaId, out var known) && known.Port == port && known.Host == host)
        {
            return known.Uri;
        }
        var uri = new Uri($"http://{FormatHost(host)}:{port}/");
        _uris[replicaId] = (host, port, uri);
        return uri;
    }

    private static string FormatHost(string host) => host.Contains(':') && !host.StartsWith('[') ? $"[{host}]" : host;
}
