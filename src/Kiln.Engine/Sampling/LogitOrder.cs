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

    /// <summary>Sorts best first. Heapsort: in place, no allocation (Span.Sort boxes a comparer).</summary>
    public void Sort(Span<int> ids)
    {
        for (var i = ids.Length / 2 - 1; i >= 0; i--) SiftDown(ids, i, ids.Length);
        for (var end = ids.Length - 1; end > 0; end--)
        {
            (ids[0], ids[end]) = (ids[end], ids[0]);
            SiftDown(ids, 0, end);
        }
    }

    // The heap keeps the worst id on top, so repeatedly moving the top to the end sorts best first.
    private void SiftDown(Span<int> ids, int i, int n)
    {
        while (true)
        {
            var child = 2 * i + 1;
            if (child >= n) return;
            if (child + 1 < n && Better(ids[child], ids[child + 1])) child++;
            if (!Better(ids[i], ids[child])) return;
            (ids[i], ids[child]) = (ids[child], ids[i]);
            i = child;
        }
    }
}
