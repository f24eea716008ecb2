namespace Kiln.Engine.Models;

/// <summary>How to instantiate a model for serving.</summary>
public sealed record ModelOptions
{
    /// <summary>Concurrent sequences (KV-cache slots).</summary>
    public int MaxSlots { get; init; } = 1;
    /// <summary>Context length per slot; 0 means the model's own.</summary>
    public int ContextLength { get; init; }
    public KvCacheType KvCacheType { get; init; } = KvCacheType.F32;
    /// <summary>Worker threads; 0 means one per core.</summary>
    public int Threads { get; init; }
    /// <summary>Most rows one forward step may hold (bounds preallocated buffers).</summary>
    public int MaxBatchRows { get; init; } = 512;
}
