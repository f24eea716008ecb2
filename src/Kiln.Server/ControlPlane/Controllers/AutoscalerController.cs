using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Kiln.Core.Autoscaling;
using Kiln.Core.Deployments;
using Kiln.Core.Engines;
using Kiln.Core.Errors;
using Kiln.Core.History;
using Kiln.Core.Names;
using Kiln.Core.Time;
using Kiln.Server.Gateway;
using Kiln.Server.Signals;
using Kiln.Store;

namespace Kiln.Server.ControlPlane.Controllers;

/// <summary>
/// Every interval, for each live deployment: scrapes its READY replicas (or, while it is quiet and
/// nothing new has happened, reuses their last scrape: <see cref="ScrapeReuse"/>), adds the gateway's own
/// counters, keeps the load history and asks <see cref="Autoscaler.Decide"/> for the desired
/// replica count, writing it (and waking the reconciler) when it changes. Between passes it takes
/// the gateway's wake requests at once (this instance's in memory, other instances' from the store
/// every <see cref="ControllerOptions.WakePollInterval"/>). It is the only writer of the desired count (the spec's
/// bounds clamp it when they change), and writes it only over the version it read. Every change is
/// an event; holds are written when their reason (numbers aside) differs from the last one, so the
/// events say what the autoscaler waits for without repeating it every few seconds. Each pass also
/// writes one history sample per deployment (replicas, load, rates, latency; a day is kept).
/// </summary>
public sealed partial class AutoscalerController(
    IKilnStore store,
    DeploymentEvents events,
    ReplicaDirectory directory,
    ReplicaScraper scraper,
    EngineCatalog engines,
    ReconcileSignal reconcile,
    WakeRequests wakes,
    ControllerOptions options,
    IClock clock,
    ILogger<AutoscalerController> log) : BackgroundService
{
    private sealed class Memory
    {
        public AutoscalerState State = AutoscalerState.Initial;
        public readonly List<LoadSample> History = [];
        public LoadSampler Sampler = new();
        public LatencySampler Latency = new();
        public string? LastHoldGist;
        public string? LastHoldReason;

        // The last scrape while it may stand for the replicas (see ScrapeReuse), and this
        // deployment's turn to be scraped again all the same.
        public QuietScrape? Quiet;
        public List<(string ReplicaId, PrometheusScrape Scrape)> QuietScrapes = [];
        public int RefreshTurn;
    }

    private readonly Dictionary<DeploymentName, Memory> _memory = [];
    private long _passes;
    private int _turns;

    // What each engine's scrapes need keep: the names its load signals are read from.
    private readonly ConditionalWeakTable<EngineMetricNames, PrometheusFilter> _filters = [];

    private PrometheusFilter Filter(EngineMetricNames names) => _filters.GetValue(names, n => new PrometheusFilter(n.All));

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var nextPass = TimeSpan.Zero;
        var since = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            while (true)
            {
                try
                {
                    await WakeAsync(stoppingToken);
                    await ApplyScaleRequestsAsync(stoppingToken);
                    if (since.Elapsed >= nextPass)
                    {
                        nextPass = since.Elapsed + options.AutoscaleInterval;
                        await RunPassAsync(stoppingToken);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    log.LogError(e, "autoscaler pass failed");
                }
                var left = nextPass - since.Elapsed;
                left = left < options.WakePollInterval ? left : options.WakePollInterval;
                await wakes.WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Raises deployments at zero that held requests wait on (on this instance, or on another one
    /// through the store) to their first replica, without a scale-up window.
    /// </summary>
    private async Task WakeAsync(CancellationToken ct)
    {
        var local = wakes.Take().ToHashSet();
        var asked = local.Union((await store.TakeWakeRequestsAsync(ct)).Select(w => new DeploymentName(w.Account, w.DeploymentId))).ToList();
        foreach (var name in asked)
        {
            var d = await store.GetDeploymentAsync(name.Account, name.Deployment, ct);
            if (d is null || d.DesiredReplicaCount > 0 || d.DeleteTime is not null || d.State is DeploymentState.Failed || d.State.IsGoingAway())
            {
                continue;
            }
            var to = Math.Clamp(1, d.Spec.MinReplicaCount, d.Spec.MaxReplicaCount);
            if (to == 0)
            {
                continue;
            }
            try
            {
                await store.SetDesiredReplicaCountAsync(d.Account, d.Id, to, d.Version, ct);
            }
            catch (KilnError e) when (e.Code is StatusCode.Aborted or StatusCode.FailedPrecondition or StatusCode.NotFound or StatusCode.InvalidArgument)
            {
                // Changed meanwhile (an aborted write re-reads on the held request's next ask).
                log.LogInformation("not waking {Deployment}: {Reason}", d.Name, e.Message);
                continue;
            }
            var why = local.Contains(name)
                ? $"{directory.Find(name)?.Held.Count ?? 0} request(s) held at the gateway"
                : "requests held at another server instance";
            await events.AppendAsync(d.Account, d.Id, "Autoscaled", $"wake 0 -> {to}: {why}", ct);
            reconcile.Wake();
            directory.Prompt();
        }
    }

    /// <summary>
    /// Sets the counts users asked for (<c>:scale</c>) at once. Each is a change like the
    /// autoscaler's own, so its windows start again from it (<see cref="Autoscaler.Requested"/>).
    /// </summary>
    private async Task ApplyScaleRequestsAsync(CancellationToken ct)
    {
        foreach (var request in await store.TakeScaleRequestsAsync(ct))
        {
            var name = new DeploymentName(request.Account, request.DeploymentId);
            // A write that lost to another change of the row (a pass, the reconciler) reads again.
            for (var attempt = 0; attempt < 5; attempt++)
            {
                var d = await store.GetDeploymentAsync(request.Account, request.DeploymentId, ct);
                if (d is null || d.DeleteTime is not null || d.State.IsGoingAway())
                {
                    break;
                }
                var memory = MemoryOf(name);
                var input = AutoscalerInput.For(d.Spec, d.DesiredReplicaCount, d.IdleSince, clock.UtcNow) with { LastRequestTime = d.LastRequestTime };
                var decision = Autoscaler.Requested(memory.State, input, request.ReplicaCount);
                try
                {
                    await store.SetDesiredReplicaCountAsync(d.Account, d.Id, decision.To, d.Version, ct);
                }
                catch (KilnError e) when (e.Code is StatusCode.Aborted)
                {
                    continue;
                }
                catch (KilnError e) when (e.Code is StatusCode.FailedPrecondition or StatusCode.NotFound or StatusCode.InvalidArgument)
                {
                    log.LogInformation("not scaling {Deployment} as requested: {Reason}", d.Name, e.Message);
                    break;
                }
                memory.State = decision.State;
                memory.LastHoldGist = null;
                memory.LastHoldReason = null;
                await events.AppendAsync(d.Account, d.Id, "Autoscaled", decision.Reason, ct);
                reconcile.Wake();
                directory.Prompt();
                break;
            }
        }
    }

    /// <summary>One pass over every live deployment (the loop's step; public so benchmarks can time it).</summary>
    public async Task RunPassAsync(CancellationToken ct)
    {
        var pass = ++_passes;
        var started = clock.UtcNow;
        var deployments = await store.ListLiveDeploymentsAsync(ct);
        var scaled = new List<(DeploymentRecord Deployment, DeploymentName Key, DeploymentRoute Route, Memory Memory, DeploymentActivity Seen)>();
        var toScrape = new List<DeploymentRoute>();
        foreach (var d in deployments)
        {
            if (d.DeleteTime is null && !d.State.IsGoingAway() && directory.Find(d.Name) is { } route)
            {
                var key = d.Name;
                var memory = MemoryOf(key);
                // Read before the scrape, so whatever happens while it runs shows as a change next pass.
                var seen = Activity(d, route);
                if (!ScrapeReuse.MayReuse(memory.Quiet, seen, pass, memory.RefreshTurn, started))
                {
                    toScrape.Add(route);
                }
                scaled.Add((d, key, route, memory, seen));
            }
        }
        // Every replica at once (the scraper bounds the concurrency), then the decisions one by one.
        // Each scrape keeps only what its deployment's engine reports the load in.
        var filters = scaled.ToDictionary(x => x.Route.Name, x => Filter(engines.For(x.Deployment.Spec.Engine).Metrics));
        var scrapes = await scraper.ScrapeAsync(toScrape, route => filters[route.Name], ct);
        var live = new HashSet<DeploymentName>();
        var history = new List<DeploymentHistoryRecord>(scaled.Count);
        // Holds are written together after the decisions: one transaction, not one per deployment
        // (every deployment holds on a leader's first pass).
        var holds = new List<NewDeploymentEvent>();
        foreach (var (d, key, route, memory, seen) in scaled)
        {
            live.Add(key);
            var now = clock.UtcNow;
            var engine = engines.For(d.Spec.Engine).ForDeployment(d.Spec.MaxBatchSize);
            var reused = !scrapes.TryGetValue(d.Name, out var scraped);
            if (!reused)
            {
                Remember(memory, seen, scraped!, engine, pass, started);
            }
            var sample = memory.Sampler.Take(now, route, reused ? memory.QuietScrapes : scraped!, engine, reused);
            LoadHistory.Append(memory.History, sample, now, d.Spec.AutoscalingPolicy);
            var (latencies, slowest) = memory.Latency.Take(route.Counters);
            history.Add(new(d.Account, d.Id, HistorySample.From(sample, d.Spec.AutoscalingPolicy.LoadTargets, d.DesiredReplicaCount,
                route.Held.Count, DeploymentCounters.DurationBuckets, latencies, slowest)));
            var lastRequest = Latest(d.LastRequestTime, route.LastRequestTime);
            var input = AutoscalerInput.For(d.Spec, d.DesiredReplicaCount, d.IdleSince, now) with
            {
                History = memory.History,
                LastRequestTime = lastRequest,
                HeldRequests = route.Held.Count,
            };
            var decision = Autoscaler.Decide(memory.State, input);
            memory.State = decision.State;
            await ApplyAsync(d, route, memory, decision, lastRequest, holds, ct);
        }
        await events.AppendAllAsync(holds, ct);
        foreach (var gone in _memory.Keys.Where(k => !live.Contains(k)).ToList())
        {
            _memory.Remove(gone);
        }
        scraper.Retain(directory.Routes.SelectMany(r => r.Endpoints).Select(e => e.ReplicaId));
        await store.AppendDeploymentHistoryAsync(history, clock.UtcNow - HistoryWindow.Retention, ct);
    }

    private Memory MemoryOf(DeploymentName key)
    {
        if (!_memory.TryGetValue(key, out var memory))
        {
            // Turns are handed out in order, so quiet deployments' refreshes spread evenly over the passes.
            _memory[key] = memory = new Memory { RefreshTurn = _turns++ % ScrapeReuse.RefreshEveryPasses };
        }
        return memory;
    }

    private static DeploymentActivity Activity(DeploymentRecord d, DeploymentRoute route) => new()
    {
        ReadyReplicas = [.. route.Endpoints.Select(e => e.ReplicaId)],
        Arrivals = route.Counters.Arrivals,
        InFlight = route.Counters.InFlight,
        Held = route.Held.Count,
        LastRequestTime = d.LastRequestTime,
        GatewayLastRequestTime = route.LastRequestTime,
    };

    // Keeps a real scrape for the passes after it when it shows the deployment quiet.
    private static void Remember(Memory memory, DeploymentActivity seen, List<(string ReplicaId, PrometheusScrape Scrape)> scraped, EngineProfile engine, long pass, DateTimeOffset at)
    {
        var idle = scraped.All(x => engine.Metrics.ShowsNoRequests(x.Scrape.Sum));
        memory.Quiet = ScrapeReuse.Remember(seen, [.. scraped.Select(x => x.ReplicaId)], idle, pass, at);
        memory.QuietScrapes = memory.Quiet is null ? [] : scraped;
    }

    private async Task ApplyAsync(
        DeploymentRecord d, DeploymentRoute route, Memory memory, AutoscaleDecision decision, DateTimeOffset? lastRequest, List<NewDeploymentEvent> holds, CancellationToken ct)
    {
        if (!decision.Changed)
        {
            // The same reason word for word has the same gist: no need to run the expression again.
            if (decision.Reason == memory.LastHoldReason)
            {
                return;
            }
            memory.LastHoldReason = decision.Reason;
            var gist = Numbers().Replace(decision.Reason, "#");
            if (gist != memory.LastHoldGist)
            {
                memory.LastHoldGist = gist;
                holds.Add(new(d.Account, d.Id, "Autoscaler", decision.Reason));
            }
            return;
        }
        // A request may have arrived since the input was read; never put it to sleep under it.
        if (decision.To == 0 && (route.Counters.InFlight > 0 || route.Held.Count > 0 || Latest(lastRequest, route.LastRequestTime) != lastRequest))
        {
            return;
        }
        try
        {
            await store.SetDesiredReplicaCountAsync(d.Account, d.Id, decision.To, d.Version, ct);
        }
        catch (KilnError e) when (e.Code is StatusCode.Aborted or StatusCode.FailedPrecondition or StatusCode.NotFound or StatusCode.InvalidArgument)
        {
            // Aborted: the row changed since it was read (a spec update, a wake); the next pass decides again.
            log.LogInformation("not scaling {Deployment}: {Reason}", d.Name, e.Message);
            return;
        }
        memory.LastHoldGist = null;
        memory.LastHoldReason = null;
        await events.AppendAsync(d.Account, d.Id, "Autoscaled", decision.Reason, ct);
        reconcile.Wake();
        directory.Prompt();
    }

    private static DateTimeOffset? Latest(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : (a > b ? a : b);

    [GeneratedRegex(@"\d+(\.\d+)?")]
    private static partial Regex Numbers();
}
