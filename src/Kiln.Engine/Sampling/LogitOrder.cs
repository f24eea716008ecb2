namespace Kiln.Engine.Sampling;

/// <summary>
/// Orders token ids by logit, highest first, ties to the lowest id, so every filter and the
/// greedy pick agree on one total order (which makes top_k=1 identical to greedy).
/// </summary>
internal readonly ref struct LogitOrder(ReadOnlySpan<float> logits)
{
    private readonly ReadOnlySpan<float> _logits = logits;

    public bool Better(int a, int b)
    {
        var la = _logits[a];
        var lb = _logits[b];
        return la > lb || (la == lb && a < b);
    }

    /// <summary>
    /// Sorts best first. Each id becomes one 64-bit key (the logit's order bits, inverted, then the id)
    /// and the keys sort as plain integers, which is this order exactly and far faster than comparing
    /// through the logits; <paramref name="keys"/> is scratch at least as long as <paramref name="ids"/>.
    /// </summary>
    public void Sort(Span<int> ids, Span<ulong> keys)
    {
        keys = keys[..ids.Length];
        for (var i = 0; i < ids.Length; i++) keys[i] = (ulong)~OrderBits(_logits[ids[i]]) << 32 | (uint)ids[i];
        keys.Sort();
        for (var i = 0; i < ids.Length; i++) ids[i] = (int)(uint)keys[i];
    }

    /// <summary>Bits that order as unsigned integers as the floats do; -0 and +0 alike (as == treats them). Not for NaN.</summary>
    private static uint OrderBits(float v)
    {
        var bits = BitConverter.SingleToUInt32Bits(v + 0f);
        return (bits & 0x8000_0000) != 0 ? ~bits : bits | 0x8000_0000;
    }
}
