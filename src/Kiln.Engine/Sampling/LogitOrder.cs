namespace Kiln.Engine.Sampling;

/// <summary>
/// Orders token ids by logit, highest first, ties to the lowest id, so every filter and the
/// greedy pick agree on one total order (which makes top_k=1 identical to greedy).
/// </summary>
internal readonly struct LogitOrder(float[] logits)
{
    public bool Better(int a, int b)
    {
        var la = logits[a];
        var lb = logits[b];
        return la > lb || (la == lb && a < b);
    }

    /// <summary>Partially orders <paramref name="ids"/> so its first <paramref name="k"/> entries are the k best (in any order).</summary>
    public void SelectTop(Span<int> ids, int k)
    {
        if (k <= 0 || k >= ids.Length) return;
        int lo = 0, hi = ids.Length - 1, target = k - 1;
        while (lo < hi)
        {
            // Median-of-three keeps sorted or reverse-sorted vocabularies from going quadratic.
            var mid = lo + (hi - lo) / 2;
            if (Better(ids[mid], ids[lo])) (ids[mid], ids[lo]) = (ids[lo], ids[mid]);
            if (Better(ids[hi], ids[lo])) (ids[hi], ids[lo]) = (ids[lo], ids[hi]);
            if (Better(ids[mid], ids[hi])) (ids[mid], ids[hi]) = (ids[hi], ids[mid]);
            var pivot = ids[hi];
            var store = lo;
            for (var i = lo; i < hi; i++)
            {
                if (Better(ids[i], pivot))
                {
                    (ids[i], ids[store]) = (ids[store], ids[i]);
                    store++;
                }
            }
            (ids[store], ids[hi]) = (ids[hi], ids[store]);
            if (store == target) return;
            if (store > target) hi = store - 1;
            else lo = store + 1;
        }
    }

    /// <summary>
    /// Sorts best first. Each id becomes one 64-bit key (the logit's order bits, inverted, then the id)
    /// and the keys sort as plain integers, which is this order exactly and far faster than comparing
    /// through the logits; <paramref name="keys"/> is scratch at least as long as <paramref name="ids"/>.
    /// </summary>
    public void Sort(Span<int> ids, Span<ulong> keys)
    {
        keys = keys[..ids.Length];
        for (var i = 0; i < ids.Length; i++) keys[i] = (ulong)~OrderBits(logits[ids[i]]) << 32 | (uint)ids[i];
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
