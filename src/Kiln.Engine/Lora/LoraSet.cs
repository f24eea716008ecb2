namespace Kiln.Engine.Lora;

/// <summary>One adapter registered with a model, applied with a user scale (multiplying alpha / rank).</summary>
public readonly record struct LoraSetEntry(int AdapterId, float Scale);

/// <summary>
/// The adapters one sequence runs with; their deltas add. Immutable and shared by every row of the
/// sequence, so batching it costs no allocation.
/// </summary>
public sealed class LoraSet
{
    private static long s_lastSerial;
    private readonly LoraSetEntry[] _entries;

    public LoraSet(IEnumerable<LoraSetEntry> entries)
    {
        _entries = [.. entries];
        if (_entries.Length == 0) throw new ArgumentException("an adapter set needs at least one adapter", nameof(entries));
        foreach (var e in _entries)
        {
            if (e.AdapterId < 0) throw new ArgumentOutOfRangeException(nameof(entries), e.AdapterId, "adapter ids are non-negative");
            if (!float.IsFinite(e.Scale)) throw new ArgumentOutOfRangeException(nameof(entries), e.Scale, "adapter scales must be finite");
        }
    }

    public static LoraSet Single(int adapterId, float scale = 1f) => new([new LoraSetEntry(adapterId, scale)]);

    public IReadOnlyList<LoraSetEntry> Entries => _entries;

    /// <summary>
    /// Unique to this instance in the process: ids are reused after an adapter is unregistered, so a
    /// cache of KV computed with a set keys on this rather than on the ids it names.
    /// </summary>
    public long Serial { get; } = Interlocked.Increment(ref s_lastSerial);

    internal LoraSetEntry[] Items => _entries;

    public override string ToString() => string.Join(" + ", _entries.Select(e => $"#{e.AdapterId}×{e.Scale}"));
}
