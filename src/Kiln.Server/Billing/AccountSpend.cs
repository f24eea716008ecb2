using Kiln.Core.Billing;
using Kiln.Core.Errors;
using Kiln.Core.Time;
using Kiln.Store;

namespace Kiln.Server.Billing;

/// <summary>
/// Whether an account's spend this month, plus what its running replicas will cost over
/// <paramref name="projection"/>, reaches its spend limit: the verdict the reaper deletes
/// deployments on and the gateway refuses requests on.
/// </summary>
public sealed class AccountSpend(IKilnStore store, PriceTable prices, IClock clock, TimeSpan projection)
{
    /// <summary>The verdict for <paramref name="account"/> now (not over the limit when it has none or is gone).</summary>
    public async Task<SpendCheck> CheckAsync(string account, CancellationToken ct) =>
        await store.GetAccountAsync(account, ct) is { SpendLimit: not null } record
            ? await CheckAsync(record, ct)
            : new SpendCheck(false, null);

    /// <summary>
    /// Whether the account's requests are refused: over the limit now, or stopped by it since the
    /// limit last changed. Once the reaper deleted deployments for the limit, their replicas stop
    /// and cost nothing more, so spend alone may sit just under the limit; the stop holds until an
    /// administrator raises (or removes) the limit.
    /// </summary>
    public async Task<SpendCheck> RefusalAsync(string account, CancellationToken ct)
    {
        if (await store.GetAccountAsync(account, ct) is not { SpendLimit: not null } record)
        {
            return new SpendCheck(false, null);
        }
        var now = await CheckAsync(record, ct);
        if (now.OverLimit)
        {
            return now;
        }
        var page = new PageRequest(PageRequest.MaxPageSize);
        while (true)
        {
            var deployments = await store.ListDeploymentsAsync(account, page, showDeleted: true, ct);
            if (deployments.Items.FirstOrDefault(d => d.DeletionReason?.Code == StatusCode.ResourceExhausted && d.DeleteTime >= record.UpdateTime) is { } stopped)
            {
                return new SpendCheck(true, $"spend limit {SpendLimit.Usd(record.SpendLimit!.Value)} reached (deployments deleted at {stopped.DeleteTime:yyyy-MM-dd'T'HH:mm:ss'Z'})");
            }
            if (string.IsNullOrEmpty(deployments.NextPageToken))
            {
                return now;
            }
            page = page with { PageToken = deployments.NextPageToken };
        }
    }

    private async Task<SpendCheck> CheckAsync(Kiln.Store.AccountRecord record, CancellationToken ct)
    {
        var now = clock.UtcNow;
        var monthStart = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);
        var lifetimes = (await store.ListReplicaUsageAsync(record.Id, new UsageQuery(monthStart, now), ct))
            .Select(u => new ReplicaLifetime(u.DeploymentId, u.ReplicaId, u.AcceleratorType, u.AcceleratorCount, u.ReadyTime, u.StopTime))
            .ToList();
        var spent = Metering.ByDeployment(lifetimes, new BillingWindow(monthStart, now), now, prices).Sum(c => c.Cost);
        var projected = Metering.ProjectedCost(lifetimes, projection, prices);
        return SpendLimit.Check(spent, projected, record.SpendLimit);
    }
}
