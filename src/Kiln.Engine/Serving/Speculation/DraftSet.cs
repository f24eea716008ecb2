namespace Kiln.Engine.Serving.Speculation;

/// <summary>
/// The draft tokens of one step, per slot: how many a proposer may write (the limit the scheduler
/// sets), and what it wrote. Sized once.
/// </summary>
internal sealed class DraftSet
{
    private readonly int[] _tokens;
    private readonly int[] _limits;
    private readonly int[] _counts;

    public DraftSet(int slots, int draftTokens)
    {
        MaxTokens = draftTokens;
        _tokens = new int[slots * draftTokens];
        _limits = new int[slots];
        _counts = new int[slots];
    }

    public int MaxTokens { get; }

    public int Limit(int slot) => _limits[slot];
    public void SetLimit(int slot, int limit) => _limits[slot] = Math.Clamp(limit, 0, MaxTokens);

    /// <summary>Room for the slot's drafts, its limit long.</summary>
    public Span<int> Room(int slot) => _tokens.AsSpan(slot * MaxTokens, _limits[slot]);

    public void SetCount(int slot, int count) => _counts[slot] = Math.Clamp(count, 0, _limits[slot]);

    public ReadOnlySpan<int> Tokens(int slot) => _tokens.AsSpan(slot * MaxTokens, _counts[slot]);

    public void Clear(int slot)
    {
        _limits[slot] = 0;
        _counts[slot] = 0;
    }
}
