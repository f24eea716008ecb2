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
/// the gateway waking a deployment from zero) needs no change here. On start it first adopts the replica processes a
/// previous control-plane process left behind. On a clean stop (SIGTERM, Ctrl-C) it stops every
/// replica it runs, draining them, and removes their records so the next start begins afresh;
/// after a crash (<c>kill -9</c>) the replicas keep serving and are adopted on the next start.
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
            await adoption.RunAsync(stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                await RunPassAsync(stoppingToken);
                await signal.WaitAsync(options.Interval, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await StopEverythingAsync();
        }
    }

    /// <summary>One pass over every live deployment (the loop's step; public so benchmarks can time it).</summary>
    public async Task RunPassAsync(CancellationToken ct)
    {
        var wanted = new HashSet<string>();
        // One look at every replica process for the whole pass (one squeue on Slurm).
        await runtime.RefreshAsync(ct);
        IReadOnlyList<DeploymentRecord> deployments;
        try
        {
            deployments = await store.ListLiveDeploymentsAsync(ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogError(e, "listing deployments failed");
            return;
        }
        // Deployments are independent apart from the slots, which the pass context hands out, so
        // several run at once: a pass then waits on the slowest health probes, not on their sum.
        var context = PassContext.For(runtime);
        var kept = new IReadOnlyList<string>[deployments.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, deployments.Count),
            new ParallelOptions { MaxDegreeOfParallelism = options.PassConcurrency, CancellationToken = ct },
            async (i, token) => kept[i] = await RunOneAsync(deployments[i], context, token));
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

    private async Task<IReadOnlyList<string>> RunOneAsync(DeploymentRecord d, PassContext context, CancellationToken ct)
    {
        try
        {
            return await pass.RunAsync(d, context, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogError(e, "reconciling {Deployment} failed", d.Name);
            // Its processes stay: an error here says nothing about whether they are wanted.
            return [.. runtime.List().Where(h => h.Replica.Account == d.Account && h.Replica.DeploymentId == d.Id).Select(h => h.ReplicaId)];
        }
    }

    private async Task StopEverythingAsync()
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
