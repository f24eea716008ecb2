using System.Text.RegularExpressions;
using Kiln.Core.Autoscaling;
using Kiln.Core.Deployments;
using Kiln.Core.Errors;
using Kiln.Core.Time;
using Kiln.Server.Gateway;
using Kiln.Server.ControlPlane;
using Kiln.Server.Signals;
using Kiln.Store;

namespace Kiln.Server.ControlPlane.Controllers;

/// <summary>
/// Every interval, for each live deployment: scrapes its READY replicas, adds the gateway's own
/// counters, keeps the load history and asks <see cref="Autoscaler.Decide"/> for the desired
/// replica count, writing it (and waking the reconciler) when it changes. Every change is an event;
/// holds are written when their reason (numbers aside) differs from the last one, so the events
/// say what the autoscaler waits for without repeating it every few seconds.
/// </summary>
public sealed partial class AutoscalerController(
    IKilnStore store,
    DeploymentEvents events,
    ReplicaDirectory directory,
    ReplicaScraper scraper,
    ReconcileSignal reconcile,
    ControllerOptions options,
    IClock clock,
    ILogger<AutoscalerController> log) : BackgroundService
{
    private sealed class Memory
    {
        public AutoscalerState State = AutoscalerState.Initial;
        public IReadOnlyList<LoadSample> History = [];
        public LoadSampler Sampler = new();
        public string? LastHoldGist;
    }

    private readonly Dictionary<string, Memory> _memory = [];

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.AutoscaleInterval);
        try
        {
            do
            {
                try
                {
                    await PassAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    log.LogError(e, "autoscaler pass failed");
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task PassAsync(CancellationToken ct)
    {
        var deployments = await store.ListLiveDeploymentsAsync(ct);
        var live = new HashSet<string>();
        foreach (var d in deployments)
        {
            if (d.DeleteTime is not null || d.State.IsGoingAway() || directory.Find(d.Name) is not { } route)
            {
                continue;
            }
            var key = d.Name.ToString();
            live.Add(key);
            if (!_memory.TryGetValue(key, out var memory))
            {
                _memory[key] = memory = new Memory();
            }
            var scrapes = await scraper.ScrapeAsync(route, ct);
            var now = clock.UtcNow;
            var sample = memory.Sampler.Take(now, route, scrapes);
            memory.History = LoadHistory.Prune([.. memory.History, sample], now, d.Spec.AutoscalingPolicy);
            var lastRequest = Latest(d.LastRequestTime, route.LastRequestTime);
            var input = AutoscalerInput.For(d.Spec, d.DesiredReplicaCount, d.CreateTime, now) with
            {
                History = memory.History,
                LastRequestTime = lastRequest,
                HeldRequests = route.Held.Count,
            };
            var decision = Autoscaler.Decide(memory.State, input);
            memory.State = decision.State;
            await ApplyAsync(d, route, memory, decision, lastRequest, ct);
        }
        foreach (var gone in _memory.Keys.Where(k => !live.Contains(k)).ToList())
        {
            _memory.Remove(gone);
        }
        scraper.Retain(directory.Routes.SelectMany(r => r.Endpoints).Select(e => e.ReplicaId));
    }

    private async Task ApplyAsync(DeploymentRecord d, DeploymentRoute route, Memory memory, AutoscaleDecision decision, DateTimeOffset? lastRequest, CancellationToken ct)
    {
        if (!decision.Changed)
        {
            var gist = Numbers().Replace(decision.Reason, "#");
            if (gist != memory.LastHoldGist)
            {
                memory.LastHoldGist = gist;
                await events.AppendAsync(d.Account, d.Id, "Autoscaler", decision.Reason, ct);
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
            await store.SetDesiredReplicaCountAsync(d.Account, d.Id, decision.To, ct);
        }
        catch (KilnError e) when (e.Code is StatusCode.FailedPrecondition or StatusCode.NotFound or StatusCode.InvalidArgument)
        {
            log.LogInformation("not scaling {Deployment}: {Reason}", d.Name, e.Message);
            return;
        }
        memory.LastHoldGist = null;
        await events.AppendAsync(d.Account, d.Id, "Autoscaled", decision.Reason, ct);
        log.LogInformation("{Deployment}: {Reason}", d.Name, decision.Reason);
        reconcile.Wake();
        directory.Prompt();
    }

    private static DateTimeOffset? Latest(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : (a > b ? a : b);

    [GeneratedRegex(@"\d+(\.\d+)?")]
    private static partial Regex Numbers();
}
