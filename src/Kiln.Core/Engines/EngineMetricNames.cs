namespace Kiln.Core.Engines;

/// <summary>
/// Which of an engine's Prometheus metrics carry Kiln's load signals. Each signal lists names to
/// try in order (engines rename metrics between versions: vLLM's <c>gpu_cache_usage_perc</c>
/// became <c>kv_cache_usage_perc</c>); the first one a scrape holds is summed over its label sets.
/// </summary>
public sealed record EngineMetricNames
{
    /// <summary>Requests being decoded now.</summary>
    public IReadOnlyList<string> Running { get; init; } = [];

    /// <summary>Requests waiting for a batch slot.</summary>
    public IReadOnlyList<string> Waiting { get; init; } = [];

    /// <summary>KV cache in use, a fraction in [0, 1].</summary>
    public IReadOnlyList<string> KvCacheUsage { get; init; } = [];

    /// <summary>The fraction of batch slots in use, when the engine reports it; otherwise derived (see <see cref="Read"/>).</summary>
    public IReadOnlyList<string> BatchOccupancy { get; init; } = [];

    /// <summary>Generated tokens, a counter.</summary>
    public IReadOnlyList<string> GeneratedTokens { get; init; } = [];

    /// <summary>Prompt tokens processed, a counter.</summary>
    public IReadOnlyList<string> PromptTokens { get; init; } = [];

    /// <summary>Every name <see cref="Read"/> may ask for: what a scrape need keep for it.</summary>
    public IReadOnlyList<string> All => [.. Running, .. Waiting, .. KvCacheUsage, .. BatchOccupancy, .. GeneratedTokens, .. PromptTokens];

    /// <summary>
    /// Kiln's signals from one scrape: <paramref name="sum"/> gives a metric's total over its label
    /// sets, or null when the scrape lacks it. Batch occupancy is the engine's own figure when it
    /// has one, else running over the batch size, or the KV cache use when that is higher (a cache
    /// that is full admits no more, however few run).
    /// </summary>
    public ReplicaLoadSignals Read(Func<string, double?> sum, int maxBatch)
    {
        var running = Math.Max(FirstOf(Running, sum) ?? 0, 0);
        var kv = Math.Clamp(FirstOf(KvCacheUsage, sum) ?? 0, 0, 1);
        var occupancy = FirstOf(BatchOccupancy, sum) is { } own
            ? Math.Clamp(own, 0, 1)
            : Math.Max(maxBatch > 0 ? Math.Min(running / maxBatch, 1) : 0, kv);
        return new ReplicaLoadSignals(running, Math.Max(FirstOf(Waiting, sum) ?? 0, 0), kv, occupancy, FirstOf(GeneratedTokens, sum) ?? 0, FirstOf(PromptTokens, sum) ?? 0);
    }

    /// <summary>
    /// True when the scrape shows no request running and none waiting. A scrape that lacks either
    /// figure is never idle by this test: nothing says that no work is going on.
    /// </summary>
    public bool ShowsNoRequests(Func<string, double?> sum) => FirstOf(Running, sum) is <= 0 && FirstOf(Waiting, sum) is <= 0;

    private static double? FirstOf(IReadOnlyList<string> names, Func<string, double?> sum)
    {
        // Indexed: a foreach over the interface would allocate an enumerator per signal per replica per pass.
        for (var i = 0; i < names.Count; i++)
        {
            if (sum(names[i]) is { } v && double.IsFinite(v))
            {
                return v;
            }
        }
        return null;
    }
}

/// <summary>One replica's load as the autoscaler reads it, whatever engine it runs.</summary>
/// <param name="Running">Requests being decoded.</param>
/// <param name="Waiting">Requests queued.</param>
/// <param name="KvCacheUsage">KV cache in use, [0, 1].</param>
/// <param name="BatchOccupancy">The fraction of the replica's capacity in use, [0, 1].</param>
/// <param name="GeneratedTokens">Generated tokens so far (a counter).</param>
/// <param name="PromptTokens">Prompt tokens so far (a counter).</param>
public sealed record ReplicaLoadSignals(double Running, double Waiting, double KvCacheUsage, double BatchOccupancy, double GeneratedTokens, double PromptTokens);
