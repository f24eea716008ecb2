namespace Kiln.Core.Billing;

/// <summary>Accelerator-seconds and their cost, in exact decimal arithmetic.</summary>
public static class Metering
{
    private const decimal SecondsPerHour = 3600m;
    private const decimal TicksPerSecond = TimeSpan.TicksPerSecond;

    /// <summary>
    /// Accelerator-seconds <paramref name="replica"/> spent inside <paramref name="window"/>: its
    /// READY-to-stop interval (to <paramref name="now"/> while it runs) clipped to the window,
    /// times its accelerator count. Zero when the two do not overlap.
    /// </summary>
    public static decimal AcceleratorSeconds(ReplicaLifetime replica, BillingWindow window, DateTimeOffset now)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(replica.AcceleratorCount);
        var from = Max(replica.ReadyTime, window.Start);
        var to = Min(replica.StopTime ?? now, window.End);
        return to <= from ? 0m : (to - from).Ticks / TicksPerSecond * replica.AcceleratorCount;
    }

    /// <summary>USD for <paramref name="acceleratorSeconds"/> at <paramref name="pricePerHour"/> USD per accelerator-hour.</summary>
    public static decimal Cost(decimal acceleratorSeconds, decimal pricePerHour) => acceleratorSeconds * pricePerHour / SecondsPerHour;

    /// <summary>Clipped accelerator-seconds and cost per deployment, ordered by deployment name.</summary>
    public static IReadOnlyList<DeploymentCost> ByDeployment(IEnumerable<ReplicaLifetime> replicas, BillingWindow window, DateTimeOffset now, PriceTable prices)
    {
        var totals = new SortedDictionary<string, (decimal Seconds, decimal DollarSeconds)>(StringComparer.Ordinal);
        foreach (var replica in replicas)
        {
            var seconds = AcceleratorSeconds(replica, window, now);
            var (s, d) = totals.GetValueOrDefault(replica.Deployment);
            // Sum seconds × hourly price and divide once, so a sum of short intervals is not rounded per interval.
            totals[replica.Deployment] = (s + seconds, d + seconds * prices.PerAcceleratorHour(replica.AcceleratorType));
        }
        return [.. totals.Select(kv => new DeploymentCost(kv.Key, kv.Value.Seconds, kv.Value.DollarSeconds / SecondsPerHour))];
    }

    /// <summary>
    /// What the replicas still running will cost over the next
    /// <paramref name="horizon"/> if they keep running: the "projected" part of a spend-limit check.
    /// </summary>
    public static decimal ProjectedCost(IEnumerable<ReplicaLifetime> replicas, TimeSpan horizon, PriceTable prices)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(horizon, TimeSpan.Zero);
        var seconds = horizon.Ticks / TicksPerSecond;
        var dollarSeconds = 0m;
        foreach (var replica in replicas)
        {
            if (replica.StopTime is null)
            {
                dollarSeconds += seconds * replica.AcceleratorCount * prices.PerAcceleratorHour(replica.AcceleratorType);
            }
        }
        return dollarSeconds / SecondsPerHour;
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
