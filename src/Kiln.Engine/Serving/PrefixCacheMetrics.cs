namespace Kiln.Engine.Serving;

/// <summary>
/// Counters of a scheduler's prefix cache, safe to read from any thread. Queries and hits count
/// sequences (a hit reused at least one block); the token counters count prompt tokens looked up and
/// reused, as vLLM's <c>prefix_cache_queries</c> and <c>prefix_cache_hits</c> do.
/// </summary>
public sealed class PrefixCacheMetrics
{
    private long _queries, _hits, _queryTokens, _hitTokens, _evictions, _usedBytes;

    public PrefixCacheMetrics(long capacityBytes, int blockTokens)
    {
        CapacityBytes = capacityBytes;
        BlockTokens = blockTokens;
    }

    /// <summary>Bytes the cache may hold; 0 when it is off.</summary>
    public long CapacityBytes { get; }
    public int BlockTokens { get; }
    public long Queries => Interlocked.Read(ref _queries);
    public long Hits => Interlocked.Read(ref _hits);
    public long QueryTokens => Interlocked.Read(ref _queryTokens);
    public long HitTokens => Interlocked.Read(ref _hitTokens);
    public long Evictions => Interlocked.Read(ref _evictions);
    public long UsedBytes => Interlocked.Read(ref _usedBytes);

    internal void AddQuery(int promptTokens, int hitTokens)
    {
        Interlocked.Increment(ref _queries);
        Interlocked.Add(ref _queryTokens, promptTokens);
        if (hitTokens == 0) return;
        Interlocked.Increment(ref _hits);
        Interlocked.Add(ref _hitTokens, hitTokens);
    }

    internal void AddEviction() => Interlocked.Increment(ref _evictions);
    internal void SetUsedBytes(long bytes) => Interlocked.Exchange(ref _usedBytes, bytes);
}
