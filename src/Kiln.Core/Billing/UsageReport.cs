namespace Kiln.Core.Billing;

/// <summary>One deployment's line in a usage report.</summary>
/// <param name="Deployment">The deployment's name.</param>
/// <param name="AcceleratorSeconds">Metered accelerator-seconds in the window.</param>
/// <param name="Cost">USD for those accelerator-seconds.</param>
/// <param name="Usage">Requests and tokens in the window.</param>
public sealed record DeploymentUsage(string Deployment, decimal AcceleratorSeconds, decimal Cost, UsageTotals Usage);

/// <summary>One API key's line in a usage report.</summary>
/// <param name="ApiKey">The key's ID.</param>
/// <param name="Usage">Requests and tokens in the window.</param>
public sealed record ApiKeyUsage(string ApiKey, UsageTotals Usage);

/// <summary>
/// Accelerator time, cost, requests and tokens in a window, per deployment and per API key: what
/// <c>kilnctl get usage</c> shows.
/// </summary>
/// <param name="Window">The window reported on.</param>
/// <param name="Deployments">One line per deployment that ran a replica or served a request, ordered by name.</param>
/// <param name="ApiKeys">One line per API key that made a request, ordered by key ID.</param>
public sealed record UsageReport(BillingWindow Window, IReadOnlyList<DeploymentUsage> Deployments, IReadOnlyList<ApiKeyUsage> ApiKeys)
{
    /// <summary>Accelerator-seconds over all deployments.</summary>
    public decimal AcceleratorSeconds => Deployments.Sum(d => d.AcceleratorSeconds);

    /// <summary>USD over all deployments.</summary>
    public decimal Cost => Deployments.Sum(d => d.Cost);

    /// <summary>Requests and tokens over all deployments.</summary>
    public UsageTotals Usage => Deployments.Aggregate(UsageTotals.Zero, (sum, d) => sum + d.Usage);

    /// <summary>Builds the report from replica lifetimes and usage records; running replicas count up to <paramref name="now"/>.</summary>
    public static UsageReport Build(
        IEnumerable<ReplicaLifetime> replicas,
        IEnumerable<UsageRecord> records,
        BillingWindow window,
        DateTimeOffset now,
        PriceTable prices)
    {
        var list = records as IReadOnlyCollection<UsageRecord> ?? [.. records];
        var costs = Metering.ByDeployment(replicas, window, now, prices).ToDictionary(c => c.Deployment);
        var usage = UsageAggregation.ByDeployment(list, window);
        var deployments = costs.Keys.Union(usage.Keys)
            .Order(StringComparer.Ordinal)
            .Select(name =>
            {
                var cost = costs.GetValueOrDefault(name);
                return new DeploymentUsage(name, cost?.AcceleratorSeconds ?? 0m, cost?.Cost ?? 0m, usage.GetValueOrDefault(name));
            });
        var keys = UsageAggregation.ByApiKey(list, window).Select(kv => new ApiKeyUsage(kv.Key, kv.Value));
        return new(window, [.. deployments], [.. keys]);
    }
}
