namespace Kiln.Engine.Serving;

/// <summary>
/// Counters and gauges of a scheduler, safe to read from any thread while it runs.
/// Finished sequences are counted per choice (n > 1 counts n).
/// </summary>
public sealed class SchedulerMetrics
{
    /// <summary>Upper bounds (seconds) of the time-to-first-token histogram buckets.</summary>
    public static readonly double[] TimeToFirstTokenBuckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    private readonly long[] _ttftBuckets = new long[TimeToFirstTokenBuckets.Length];
    private readonly long[] _finished = new long[Enum.GetValues<FinishReason>().Length];
    private readonly Lock _ttftLock = new();
    private double _ttftSum;
    private long _ttftCount;
    private int _active;
    private int _queued;
    private long _promptTokens;
    private long _generatedTokens;

    public SchedulerMetrics(int maxBatchSize) => MaxBatchSize = maxBatchSize;

    public int MaxBatchSize { get; }
    public int ActiveSequences => Volatile.Read(ref _active);
    public int QueueDepth => Volatile.Read(ref _queued);
    public long PromptTokens => Interlocked.Read(ref _promptTokens);
    public long GeneratedTokens => Interlocked.Read(ref _generatedTokens);

    public long Finished(FinishReason reason) => Interlocked.Read(ref _finished[(int)reason]);

    /// <summary>Cumulative bucket counts (one per <see cref="TimeToFirstTokenBuckets"/>), sum and count.</summary>
    public (long[] CumulativeBuckets, double Sum, long Count) TimeToFirstToken()
    {
        lock (_ttftLock)
        {
            var cumulative = new long[_ttftBuckets.Length];
            long running = 0;
            for (var i = 0; i < cumulative.Length; i++) cumulative[i] = running += _ttftBuckets[i];
            return (cumulative, _ttftSum, _ttftCount);
        }
    }

    internal void SetActive(int n) => Volatile.Write(ref _active, n);
    internal void SetQueued(int n) => Volatile.Write(ref _queued, n);
    internal void AddPromptTokens(int n) => Interlocked.Add(ref _promptTokens, n);
    internal void AddGeneratedToken() => Interlocked.Increment(ref _generatedTokens);
    internal void AddFinished(FinishReason reason) => Interlocked.Increment(ref _finished[(int)reason]);

    internal void ObserveTimeToFirstToken(double seconds)
    {
        lock (_ttftLock)
        {
            _ttftSum += seconds;
            _ttftCount++;
            for (var i = 0; i < TimeToFirstTokenBuckets.Length; i++)
            {
                if (seconds <= TimeToFirstTokenBuckets[i])
                {
                    _ttftBuckets[i]++;
                    break;
                }
            }
        }
    }
}
