using Kiln.Core.Errors;
using Kiln.Core.Time;

namespace Kiln.Core.History;

/// <summary>
/// Which stretch of history to show and how finely: up to the last <see cref="Retention"/>, merged
/// into at most <see cref="MaxPoints"/> buckets so a day of five-second samples stays a small answer.
/// </summary>
public static class HistoryWindow
{
    /// <summary>How long samples are kept; older ones are pruned.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromDays(1);

    /// <summary>The most points one answer holds.</summary>
    public const int MaxPoints = 720;

    /// <summary>
    /// The window a query asks for: a Go (<c>1h</c>, <c>24h</c>) or protobuf (<c>3600s</c>) duration,
    /// or <c>1d</c>; empty means one hour. INVALID_ARGUMENT names the value when it is not a duration
    /// above zero and at most <see cref="Retention"/>.
    /// </summary>
    public static TimeSpan Parse(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return TimeSpan.FromHours(1);
        }
        TimeSpan value;
        if (text == "1d")
        {
            value = TimeSpan.FromDays(1);
        }
        else if (!ProtoDuration.TryParse(text, out value, out _) && !GoDuration.TryParse(text, out value, out _))
        {
            throw KilnError.InvalidArgument($"window must be a duration such as 1h, 24h or 3600s, got \"{text}\"");
        }
        if (value <= TimeSpan.Zero || value > Retention)
        {
            throw KilnError.InvalidArgument($"window must be above 0s and at most {GoDuration.Format(Retention)} (history is kept that long), got \"{text}\"");
        }
        return value;
    }

    /// <summary>
    /// Merges time-ordered <paramref name="points"/> into buckets of equal width over
    /// [<paramref name="start"/>, <paramref name="end"/>) when there are more than
    /// <paramref name="maxPoints"/>: counts and latencies take the bucket's maximum (a peak must
    /// not vanish when zoomed out), rates and load its mean. Each merged point carries its bucket's
    /// last time. Fewer points come back unchanged.
    /// </summary>
    public static IReadOnlyList<HistoryPoint> Downsample(IReadOnlyList<HistoryPoint> points, DateTimeOffset start, DateTimeOffset end, int maxPoints = MaxPoints)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPoints);
        if (points.Count <= maxPoints || end <= start)
        {
            return points;
        }
        var width = ((end - start).Ticks + maxPoints - 1) / maxPoints;
        var merged = new List<HistoryPoint>(maxPoints);
        var bucket = new List<HistoryPoint>();
        long current = -1;
        foreach (var p in points)
        {
            var index = Math.Clamp((p.Time - start).Ticks / width, 0, maxPoints - 1);
            if (index != current && bucket.Count > 0)
            {
                merged.Add(Merge(bucket));
                bucket.Clear();
            }
            current = index;
            bucket.Add(p);
        }
        if (bucket.Count > 0)
        {
            merged.Add(Merge(bucket));
        }
        return merged;
    }

    private static HistoryPoint Merge(List<HistoryPoint> bucket)
    {
        var loadiest = bucket.MaxBy(p => p.Load)!;
        return new HistoryPoint
        {
            Time = bucket[^1].Time,
            Replicas = bucket.Max(p => p.Replicas),
            DesiredReplicas = bucket.Max(p => p.DesiredReplicas),
            Load = bucket.Average(p => p.Load),
            LoadTarget = loadiest.LoadTarget,
            HeldRequests = bucket.Max(p => p.HeldRequests),
            RequestsPerSecond = bucket.Average(p => p.RequestsPerSecond),
            TokensPerSecond = bucket.Average(p => p.TokensPerSecond),
            P50LatencySeconds = bucket.Max(p => p.P50LatencySeconds),
            P99LatencySeconds = bucket.Max(p => p.P99LatencySeconds),
        };
    }
}
