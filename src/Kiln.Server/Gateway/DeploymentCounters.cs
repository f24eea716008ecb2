using System.Collections.Concurrent;

namespace Kiln.Server.Gateway;

/// <summary>
/// The gateway's own load figures for one deployment: what the autoscaler reads (in flight, arrivals,
/// tokens) and what <c>/metrics</c> exports. Cumulative counters; rates are taken by the reader.
/// </summary>
public sealed class DeploymentCounters
{
    /// <summary>Upper bounds of the request-duration histogram, in seconds.</summary>
    public static readonly double[] DurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

    private readonly ConcurrentDictionary<int, long> _byStatus = new();
    private readonly long[] _durationBuckets = new long[DurationBuckets.Length];
    private long _arrivals, _inFlight, _promptTokens, _completionTokens, _durationMicros, _durationCount;

    /// <summary>Requests that named this deployment.</summary>
    public long Arrivals => Interlocked.Read(ref _arrivals);

    /// <summary>Requests between arrival and their last byte (held ones included).</summary>
    public long InFlight => Interlocked.Read(ref _inFlight);

    /// <summary>Prompt tokens of finished requests.</summary>
    public long PromptTokens => Interlocked.Read(ref _promptTokens);

    /// <summary>Generated tokens of finished requests.</summary>
    public long CompletionTokens => Interlocked.Read(ref _completionTokens);

    /// <summary>Finished requests by HTTP status.</summary>
    public IReadOnlyDictionary<int, long> ByStatus => _byStatus;

    /// <summary>Counts a request in.</summary>
    public void Arrive()
    {
        Interlocked.Increment(ref _arrivals);
        Interlocked.Increment(ref _inFlight);
    }

    /// <summary>Adds the tokens of a request (for streams, known only after it ended).</summary>
    public void AddTokens(long promptTokens, long completionTokens)
    {
        Interlocked.Add(ref _promptTokens, promptTokens);
        Interlocked.Add(ref _completionTokens, completionTokens);
    }

    /// <summary>Counts a request out with its status and duration.</summary>
    public void Finish(int status, TimeSpan duration)
    {
        Interlocked.Decrement(ref _inFlight);
        _byStatus.AddOrUpdate(status, 1, (_, n) => n + 1);
        var seconds = duration.TotalSeconds;
        for (var i = 0; i < DurationBuckets.Length; i++)
        {
            if (seconds <= DurationBuckets[i])
            {
                Interlocked.Increment(ref _durationBuckets[i]);
                break;
            }
        }
        Interlocked.Add(ref _durationMicros, (long)(seconds * 1e6));
        Interlocked.Increment(ref _durationCount);
    }

    /// <summary>Per-bucket (not cumulative) counts, the sum of durations and their count.</summary>
    public (long[] Buckets, double Sum, long Count) Durations()
    {
        var buckets = new long[_durationBuckets.Length];
        for (var i = 0; i < buckets.Length; i++)
        {
            buckets[i] = Interlocked.Read(ref _durationBuckets[i]);
        }
        return (buckets, Interlocked.Read(ref _durationMicros) / 1e6, Interlocked.Read(ref _durationCount));
    }
}
