namespace Kiln.Core.History;

/// <summary>
/// Quantiles estimated from a histogram of durations, as Prometheus' <c>histogram_quantile</c>
/// does: find the bucket holding the rank and interpolate linearly inside it.
/// </summary>
public static class LatencyQuantiles
{
    /// <summary>
    /// The <paramref name="q"/>-quantile of the observations counted in <paramref name="counts"/>
    /// (per bucket, not cumulative; bucket i holds values up to <paramref name="upperBounds"/>[i] and
    /// above the previous bound), with <paramref name="overflow"/> observations above the last bound.
    /// Null when there are no observations. A rank in the overflow answers the last bound, the most
    /// the histogram can say.
    /// </summary>
    public static double? Estimate(IReadOnlyList<double> upperBounds, IReadOnlyList<long> counts, long overflow, double q)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(counts.Count, upperBounds.Count);
        if (!(q >= 0 && q <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(q), q, "a quantile is between 0 and 1");
        }
        var total = overflow;
        foreach (var c in counts)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(c);
            total += c;
        }
        ArgumentOutOfRangeException.ThrowIfNegative(overflow);
        if (total == 0)
        {
            return null;
        }
        var rank = q * total;
        long below = 0;
        for (var i = 0; i < counts.Count; i++)
        {
            if (counts[i] > 0 && below + counts[i] >= rank)
            {
                var lower = i == 0 ? 0 : upperBounds[i - 1];
                return lower + (upperBounds[i] - lower) * (rank - below) / counts[i];
            }
            below += counts[i];
        }
        return upperBounds.Count == 0 ? null : upperBounds[^1];
    }

    /// <summary>Per-bucket counts added between two readings of cumulative counters (a reset counts from zero).</summary>
    public static long[] Difference(IReadOnlyList<long> before, IReadOnlyList<long> after)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(before.Count, after.Count);
        var reset = false;
        for (var i = 0; i < after.Count; i++)
        {
            reset |= after[i] < before[i];
        }
        var d = new long[after.Count];
        for (var i = 0; i < after.Count; i++)
        {
            d[i] = reset ? after[i] : after[i] - before[i];
        }
        return d;
    }
}
