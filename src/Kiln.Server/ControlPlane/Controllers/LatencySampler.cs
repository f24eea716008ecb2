using Kiln.Core.History;
using Kiln.Server.Gateway;

namespace Kiln.Server.ControlPlane.Controllers;

/// <summary>
/// The requests one deployment finished since the previous reading, per duration bucket of the
/// gateway's histogram: what a history sample's latency quantiles are taken from.
/// </summary>
public sealed class LatencySampler
{
    private DeploymentCounters? _counters;
    private long[] _previous = [];
    private long _previousCount;

    /// <summary>Per-bucket counts and the count above the last bound, since the previous call.</summary>
    public (long[] Counts, long Overflow) Take(DeploymentCounters counters)
    {
        var (buckets, _, count) = counters.Durations();
        if (!ReferenceEquals(counters, _counters))
        {
            // A new route (the gateway dropped and re-made it) counts from zero.
            _counters = counters;
            _previous = new long[buckets.Length];
            _previousCount = 0;
        }
        var counts = LatencyQuantiles.Difference(_previous, buckets);
        var finished = count - _previousCount;
        _previous = buckets;
        _previousCount = count;
        return (counts, Math.Max(0, finished - counts.Sum()));
    }
}
