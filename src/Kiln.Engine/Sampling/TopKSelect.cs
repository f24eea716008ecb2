using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kiln.Engine.Sampling;

/// <summary>
/// Quickselect (median of three, Lomuto partition) over ids and their logits held side by side, in
/// <see cref="LogitOrder"/>'s order. The order it leaves the k best in decides a seeded top_k draw,
/// so it makes exactly the swaps of the plain scalar algorithm. A Lomuto partition keeps the better
/// side in its original relative order, so whenever only that side is kept (the usual case: k is
/// small against the range) a vectorised stable compaction produces the same positions.
/// </summary>
internal static class TopKSelect
{
    // Below this range the scalar partition is as quick as counting first.
    private const int VectorRange = 256;

    /// <summary>
    /// Partially orders <paramref name="ids"/> (with <paramref name="values"/>, where values[i] is the
    /// logit of ids[i], never NaN) so its first <paramref name="k"/> entries are the k best. The entries
    /// past them are lost unless <paramref name="keepRest"/> (which forgoes the vectorised partition).
    /// </summary>
    public static void Select(Span<int> ids, Span<float> values, int k, bool keepRest = false)
    {
        if (k <= 0 || k >= ids.Length) return;
        int lo = 0, hi = ids.Length - 1, target = k - 1;
        while (lo < hi)
        {
            // Median-of-three keeps sorted or reverse-sorted vocabularies from going quadratic.
            var mid = lo + (hi - lo) / 2;
            if (Better(values, ids, mid, lo)) Swap(values, ids, mid, lo);
            if (Better(values, ids, hi, lo)) Swap(values, ids, hi, lo);
            if (Better(values, ids, mid, hi)) Swap(values, ids, mid, hi);
            var store = !keepRest && hi - lo >= VectorRange ? KeepBetterSide(values, ids, lo, hi, target) : -1;
            if (store < 0) store = Partition(values, ids, lo, hi);
            if (store == target) return;
            if (store > target) hi = store - 1;
            else lo = store + 1;
        }
    }

    /// <summary>
    /// When the better-than-pivot side of [lo, hi) reaches <paramref name="target"/>, compacts it to the
    /// front (as the scalar partition would leave it), puts the pivot after it and returns its position;
    /// otherwise changes nothing and returns -1. Entries past the pivot are left as garbage: the search
    /// never returns to them.
    /// </summary>
    private static int KeepBetterSide(Span<float> values, Span<int> ids, int lo, int hi, int target)
    {
        var pv = values[hi];
        var pid = ids[hi];
        var store = lo + ScanBetter(values[lo..hi], ids[lo..hi], pv, pid, compact: false);
        if (store < target) return -1;
        ScanBetter(values[lo..hi], ids[lo..hi], pv, pid, compact: true);
        values[store] = pv;
        ids[store] = pid;
        return store;
    }

    private static int Partition(Span<float> values, Span<int> ids, int lo, int hi)
    {
        var store = lo;
        for (var i = lo; i < hi; i++)
        {
            if (Better(values, ids, i, hi))
            {
                Swap(values, ids, i, store);
                store++;
            }
        }
        Swap(values, ids, store, hi);
        return store;
    }

    private static bool Better(Span<float> values, Span<int> ids, int a, int b) =>
        values[a] > values[b] || (values[a] == values[b] && ids[a] < ids[b]);

    private static void Swap(Span<float> values, Span<int> ids, int a, int b)
    {
        (values[a], values[b]) = (values[b], values[a]);
        (ids[a], ids[b]) = (ids[b], ids[a]);
    }

    private static Vector256<float> BetterMask(Vector256<float> v, Vector256<int> id, Vector256<float> pv, Vector256<int> pid) =>
        Vector256.GreaterThan(v, pv) | (Vector256.Equals(v, pv) & Vector256.LessThan(id, pid).AsSingle());

    /// <summary>
    /// Counts the entries better than the pivot; with <paramref name="compact"/> also moves them to the
    /// front, keeping their order (writes never pass reads, so in place is safe).
    /// </summary>
    private static int ScanBetter(Span<float> values, Span<int> ids, float pv, int pid, bool compact)
    {
        var n = 0;
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vpv = Vector256.Create(pv);
            var vpid = Vector256.Create(pid);
            ref var v0 = ref MemoryMarshal.GetReference(values);
            ref var id0 = ref MemoryMarshal.GetReference(ids);
            for (; i <= values.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var bits = BetterMask(Vector256.LoadUnsafe(ref v0, (nuint)i), Vector256.LoadUnsafe(ref id0, (nuint)i), vpv, vpid).ExtractMostSignificantBits();
                if (!compact)
                {
                    n += BitOperations.PopCount(bits);
                    continue;
                }
                if (VectorCompress.IsSupported)
                {
                    VectorCompress.Store(Vector256.LoadUnsafe(ref v0, (nuint)i), bits, ref v0, n);
                    n = VectorCompress.Store(Vector256.LoadUnsafe(ref id0, (nuint)i), bits, ref id0, n);
                    continue;
                }
                while (bits != 0)
                {
                    var j = i + BitOperations.TrailingZeroCount(bits);
                    values[n] = values[j];
                    ids[n++] = ids[j];
                    bits &= bits - 1;
                }
            }
        }
        for (; i < values.Length; i++)
        {
            if (!(values[i] > pv || (values[i] == pv && ids[i] < pid))) continue;
            if (compact)
            {
                values[n] = values[i];
                ids[n] = ids[i];
            }
            n++;
        }
        return n;
    }
}
