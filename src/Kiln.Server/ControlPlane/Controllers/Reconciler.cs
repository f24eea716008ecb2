using System.Diagnostics;
using Kiln.Core.Deployments;
using Kiln.Runtime;
using Kiln.Server.Signals;
using Kiln.Store;

namespace Kiln.Server.ControlPlane.Controllers;

/// <summary>
/// The level-triggered loop that drives every live deployment's replicas toward its spec and
/// desired replica count. It runs a pass every <see cref="ReconcilerOptions.Interval"/>, or sooner
/// when an API write wakes it.
/// </summary>
/// <remarks>
/// It only reads <c>desiredReplicaCount</c>; whoever sets that number (the API, the autoscaler,
/// the gateway waking a deployment from zero) needs no change here. It runs only on the leader, for
/// one term of the leader lease. On start it first adopts the replica processes a previous leader
/// (or this server before a crash) left behind. When the server stops cleanly (SIGTERM, Ctrl-C)
/// its host calls <see cref="StopEverythingAsync"/>, which drains every replica and removes their
/// records so the next start begins afresh; when the term ends otherwise (the lease was lost) or
/// the server crashes (<c>kill -9</c>), the replicas keep serving and the next leader adopts them.
/// </remarks>
public sealed class Reconciler(
    IKilnStore store,
    IReplicaRuntime runtime,
    ReconcileSignal signal,
    ReplicaAdoption adoption,
    ReplicaStopper stopper,
    DeploymentPass pass,
    ReconcilerOptions options,
    ILogger<Reconciler> log) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await AdoptAsync(stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                await RunPassAsync(stoppingToken);
                await WaitForNextPassAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Waits out the interval, or less: a wake, or a starting replica that turned ready or failed
    /// (probed every <see cref="ReconcilerOptions.StartingProbeInterval"/>), runs the next pass at once.
    /// </summary>
    private async Task WaitForNextPassAsync(CancellationToken ct)
    {
        var start = Stopwatch.GetTimestamp();
        while (true)
        {
            var left = options.Interval - Stopwatch.GetElapsedTime(start);
            if (left <= TimeSpan.Zero) return;
            var starting = pass.Starting;
            if (starting.Count == 0)
            {
                await signal.WaitAsync(left, ct);
                return;
            }
            if (await signal.WaitAsync(left < options.StartingProbeInterval ? left : options.StartingProbeInterval, ct)) return;
            if (starting.Any(h => runtime.GetStatus(h).Exit is not null)) return;
            var probes = await Task.WhenAll(starting.Select(h => runtime.ProbeAsync(h, ct)));
            if (probes.Any(p => p.Health is ReplicaHealth.Ready or ReplicaHealth.Failed)) return;
        }
    }

    /// <summary>Adopts what an earlier leader left running; retried until the store answers, since passes must not start before it.</summary>
    private async Task AdoptAsync(CancellationToken ct)
    {
        while (true)
        {
            try
            {
                await adoption.RunAsync(ct);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogError(e, "adopting replicas failed; trying again");
                await Task.Delay(options.Interval, ct);
            }
        }
    }

    /// <summary>One pass over every live deployment (the loop's step; public so benchmarks can time it).</summary>
    public async Task RunPassAsync(CancellationToken ct)
    {
        var wanted = new HashSet<string>();
        // One look at every replica process for the whole pass (one squeue on Slurm).
        await runtime.RefreshAsync(ct);
        IReadOnlyList<DeploymentRecord> deployments;
        Dictionary<(string Account, string Deployment), List<ReplicaRecord>> replicas;
        HashSet<(string Account, string Deployment)> withAddons;
        try
        {
            deployments = await store.ListLiveDeploymentsAsync(ct);
            // Every replica record in one read, not one read per deployment: only this pass (and
            // the stops it began) writes them, and a plan copes with a stop finished meanwhile.
            replicas = ByDeployment(await store.ListAllReplicasAsync(ct));
            // Likewise which deployments have addons at all: most have none, and those are not asked again.
            withAddons = [.. (await store.ListAllDeployedModelsAsync(ct)).Select(m => (m.Account, m.DeploymentId))];
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogError(e, "reading deployments and replicas failed");
            return;
        }
        // Deployments are independent apart from the slots, which the pass context hands out, so
        // several run at once: a pass then waits on the slowest health probes, not on their sum.
        var context = PassContext.For(runtime);
        var kept = new IReadOnlyList<string>[deployments.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, deployments.Count),
            new ParallelOptions { MaxDegreeOfParallelism = options.PassConcurrency, CancellationToken = ct },
            async (i, token) =>
            {
                var key = (deployments[i].Account, deployments[i].Id);
                kept[i] = await RunOneAsync(deployments[i], replicas.GetValueOrDefault(key) ?? [], withAddons.Contains(key), context, token);
            });
        foreach (var ids in kept)
        {
            wanted.UnionWith(ids);
        }
        pass.Retain(wanted);
        // A process no record accounts for (its deployment was purged, say) would be an orphan.
        foreach (var h in runtime.List())
        {
            if (!wanted.Contains(h.ReplicaId) && !stopper.IsStopping(h.ReplicaId))
            {
                stopper.StopStray(h);
            }
        }
    }

    private static Dictionary<(string Account, string Deployment), List<ReplicaRecord>> ByDeployment(IReadOnlyList<ReplicaRecord> all)
    {
        var by = new Dictionary<(string, string), List<ReplicaRecord>>();
        foreach (var r in all)
        {
            if (!by.TryGetValue((r.Account, r.DeploymentId), out var list))
            {
                by[(r.Account, r.DeploymentId)] = list = [];
            }
            list.Add(r);
        }
        return by;
    }

    private async Task<IReadOnlyList<string>> RunOneAsync(DeploymentRecord d, IReadOnlyList<ReplicaRecord> replicas, bool anyAddons, PassContext context, CancellationToken ct)
    {
        try
        {
            return await pass.RunAsync(d, replicas, anyAddons, context, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogError(e, "reconciling {Deployment} failed", d.Name);
            // Its processes stay: an error here says nothing about whether they are wanted.
            return [.. runtime.List().Where(h => h.Replica.Account == d.Account && h.Replica.DeploymentId == d.Id).Select(h => h.ReplicaId)];
        }
    }

    /// <summary>
    /// Lets go of every replica process without stopping it (the lease was lost): the next leader
    /// adopts them, and so does this instance if it leads again.
    /// </summary>
    public void LetGo()
    {
        var running = runtime.List();
        if (running.Count > 0)
        {
            log.LogInformation("leaving {Count} replica(s) running for the next leader", running.Count);
        }
        foreach (var h in running)
        {
            runtime.Forget(h);
        }
    }

    /// <summary>Stops every replica this instance runs, draining them, and removes their records (a clean stop of the server).</summary>
    public async Task StopEverythingAsync()
    {
        var running = runtime.List();
        if (running.Count > 0)
        {
            log.LogInformation("stopping {Count} replica(s)", running.Count);
        }
        await Task.WhenAll(running.Select(async h =>
        {
            try
            {
                await runtime.StopAsync(h, options.DrainTimeout);
                await store.DeleteReplicaAsync(h.Replica.Account, h.Replica.DeploymentId, h.ReplicaId);
            }
            catch (Exception e)
            {
                log.LogWarning(e, "stopping replica {Replica} failed", h.ReplicaId);
            }
        }));
        await stopper.WaitAllAsync();
    }
}
