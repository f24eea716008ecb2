using Kiln.Core.Billing;
using Kiln.Core.Deployments;
using Kiln.Core.Errors;
using Kiln.Core.Time;
using Kiln.Server.Billing;
using Kiln.Server.Gateway;
using Kiln.Server.Signals;
using Kiln.Store;

namespace Kiln.Server.ControlPlane.Controllers;

/// <summary>
/// Deletes deployments nobody uses (<see cref="AutoDelete"/>, from their <c>unusedAutoDeleteDuration</c>)
/// and every deployment of an account whose spend this month, plus what its running replicas will
/// cost until the next pass, reaches its spend limit (<see cref="AccountSpend"/>). It asks for the
/// deletion through the store's deletion request, with its reason, as the API's DELETE does; the
/// reconciler carries it out and its status says why. Each pass also rolls request usage older
/// than a day up from seconds into minutes.
/// </summary>
public sealed class Reaper(
    IKilnStore store,
    DeploymentEvents events,
    ReplicaDirectory directory,
    ReconcileSignal reconcile,
    AccountSpend spend,
    ControllerOptions options,
    IClock clock,
    ILogger<Reaper> log) : BackgroundService
{
    /// <summary>What the status of a deployment the reaper deleted starts with.</summary>
    public const string Prefix = "auto-deleted: ";

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.ReapInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await PassAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    log.LogError(e, "reaper pass failed");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task PassAsync(CancellationToken ct)
    {
        var now = clock.UtcNow;
        // Usage older than a day is kept per minute rather than per second (UsageBuckets).
        await store.RollUpRequestUsageAsync(UsageBuckets.RollUpBefore(now), ct);
        var live = (await store.ListLiveDeploymentsAsync(ct)).Where(d => d.DeleteTime is null && !d.State.IsGoingAway()).ToList();
        foreach (var d in live)
        {
            var lastRequest = d.LastRequestTime;
            if (directory.Find(d.Name)?.LastRequestTime is { } seen && (lastRequest is null || seen > lastRequest))
            {
                lastRequest = seen;
            }
            var verdict = AutoDelete.Evaluate(d.Spec.UnusedAutoDeleteDuration, d.IdleSince, lastRequest, now);
            if (verdict.ShouldDelete && directory.Find(d.Name) is not { Counters.InFlight: > 0 })
            {
                await DeleteAsync(d, StatusCode.Ok, verdict.Reason, ct);
            }
        }
        foreach (var account in live.Select(d => d.Account).Distinct())
        {
            var check = await spend.CheckAsync(account, ct);
            if (!check.OverLimit)
            {
                continue;
            }
            foreach (var d in live.Where(d => d.Account == account))
            {
                await DeleteAsync(d, StatusCode.ResourceExhausted, $"account {account}: {check.Reason}", ct);
            }
        }
    }

    private async Task DeleteAsync(DeploymentRecord d, StatusCode code, string why, CancellationToken ct)
    {
        try
        {
            // A deletion request with its reason, as the API's DELETE asks (with none): the
            // reconciler alone writes DELETING and DELETED, with this reason in front of its status.
            var requested = await store.RequestDeploymentDeletionAsync(d.Account, d.Id, new DeletionReason(code, Prefix + why), ct);
            if (requested.DeletionReason?.Message != Prefix + why)
            {
                return; // someone else asked first; theirs is the deletion that happens
            }
            await events.AppendAsync(d.Account, d.Id, "AutoDeleted", why, ct);
            log.LogInformation("deleting {Deployment}: {Reason}", d.Name, why);
            reconcile.Wake();
            directory.Prompt();
        }
        catch (KilnError e) when (e.Code is StatusCode.NotFound or StatusCode.FailedPrecondition)
        {
            // Deleted or changed meanwhile; the next pass looks again.
        }
    }
}
