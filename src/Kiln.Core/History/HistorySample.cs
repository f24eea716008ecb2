using Kiln.Core.Autoscaling;

namespace Kiln.Core.History;

/// <summary>Builds a <see cref="HistoryPoint"/> from the autoscaler's load sample and the gateway's latency histogram.</summary>
public static class HistorySample
{
    /// <param name="load">The autoscaler's sample of this pass.</param>
    /// <param name="targets">The deployment's load targets.</param>
    /// <param name="desiredReplicas">The desired count as read.</param>
    /// <param name="heldRequests">Requests held at the gateway.</param>
    /// <param name="latencyBounds">The duration histogram's upper bounds, in seconds.</param>
    /// <param name="latencyCounts">Requests that finished since the previous sample, per bucket.</param>
    /// <param name="latencyOverflow">Those above the last bound.</param>
    public static HistoryPoint From(LoadSample load, IReadOnlyDictionary<string, double> targets, int desiredReplicas, int heldRequests,
        IReadOnlyList<double> latencyBounds, IReadOnlyList<long> latencyCounts, long latencyOverflow)
    {
        var need = LoadNeeds.Largest(load, targets);
        return new HistoryPoint
        {
            Time = load.Time,
            Replicas = load.ReadyReplicas,
            DesiredReplicas = desiredReplicas,
            // What each ready replica carries against its target; with none ready, what one would.
            Load = need.TotalLoad / Math.Max(load.ReadyReplicas, 1) / need.PerReplicaTarget,
            LoadTarget = need.Target,
            HeldRequests = heldRequests,
            RequestsPerSecond = load.RequestsPerSecond,
            TokensPerSecond = load.TokensGeneratedPerSecond,
            P50LatencySeconds = LatencyQuantiles.Estimate(latencyBounds, latencyCounts, latencyOverflow, 0.5),
            P99LatencySeconds = LatencyQuantiles.Estimate(latencyBounds, latencyCounts, latencyOverflow, 0.99),
        };
    }
}
