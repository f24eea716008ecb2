using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kiln.Engine.Sampling;

/// <summary>
/// Quickselect (median of three, Lomuto partition) over ids and their logits held side by side, in
/// <see cref="LogitOrder"/>'s order. The order it leaves the k best in decides a seeded top_k draw,
/// so it makes exactly the swaps of the plain scalar algorithm. A Lomuto partition keeps the better
/// side in its original relative order, so whenever only that side is kept (the usual case: k is
/// small against the range) a vectorised stable compaction produces the same positions. Given spare
/// lists, that compaction reads one list and writes the other in a single pass: in place it must count
/// first, since a better side that falls short of k leaves the scalar partition the whole range.
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
        Continue(ids, values, 0, ids.Length - 1, k - 1, keepRest);
    }

    /// <summary>
    /// The k best of <paramref name="logits"/> (NaN and -inf never among them) into ids and values[..k], in
    /// the order <see cref="SoftmaxKernels.IndicesAtLeast"/> with float.MinValue and then <see cref="Select"/>
    /// leave them; returns how many (k, or fewer when fewer logits qualify). When every logit qualifies (no
    /// token banned, no NaN) the first partition reads the logits themselves: listing all of them first cost
    /// as much as the rest of the selection. <paramref name="ids"/> and <paramref name="values"/> are as long as the logits,
    /// and so are <paramref name="spareIds"/> and <paramref name="spareValues"/> (scratch) when given.
    /// </summary>
    public static int SelectBest(ReadOnlySpan<float> logits, int k, Span<int> ids, Span<float> values, Span<int> spareIds = default, Span<float> spareValues = default)
    {
        var n = logits.Length;
        if (k <= 0 || k >= n || n - 1 < VectorRange || !VectorCompress.IsSupported)
            return ListAndSelect(logits, k, ids, values);

        // The first round of the loop below, on the ids 0..n-1 in order without listing them: the median of
        // three makes the same swaps, which leave the best of the three first, the worst in the middle and the
        // median (the pivot) last; so the best side is the first one, then every other id better than the
        // pivot, in id order (the partition keeps that order).
        int lo = 0, mid = (n - 1) / 2, hi = n - 1, target = k - 1;
        ids[lo] = lo;
        ids[mid] = mid;
        ids[hi] = hi;
        values[lo] = logits[lo];
        values[mid] = logits[mid];
        values[hi] = logits[hi];
        if (Better(values, ids, mid, lo)) Swap(values, ids, mid, lo);
        if (Better(values, ids, hi, lo)) Swap(values, ids, hi, lo);
        if (Better(values, ids, mid, hi)) Swap(values, ids, mid, hi);
        var (pv, pid) = (values[hi], ids[hi]);
        var store = 1 + CompactBetter(logits, mid, pv, pid, ids, values, out var listed);
        // A banned (-inf) or NaN logit would have been left out of the list (listed is false), and the
        // pivot among the k best is followed by the scalar partition of the whole list, as in Select:
        // both start again from the plain way, which rewrites ids and values.
        if (!listed || store < target) return ListAndSelect(logits, k, ids, values);
        values[store] = pv;
        ids[store] = pid;
        if (store > target) Continue(ids, values, 0, store - 1, target, keepRest: false, spareIds, spareValues);
        return k;
    }

    /// <summary>The plain way: every qualifying logit listed, then <see cref="Select"/>; returns how many are kept.</summary>
    private static int ListAndSelect(ReadOnlySpan<float> logits, int k, Span<int> ids, Span<float> values)
    {
        var n = SoftmaxKernels.IndicesAtLeast(logits, float.MinValue, ids, values);
        Select(ids[..n], values[..n], k);
        return Math.Min(k, n);
    }

    /// <summary>
    /// Writes the ids from 1 to the last but one, except <paramref name="skip"/>, whose logits are better than
    /// the pivot's, in order, with their logits, at ids and values[1..]; returns how many. <paramref name="listed"/>
    /// tells whether every logit is at or above float.MinValue (neither NaN nor -inf), as listing them would keep
    /// all: checked in the same pass instead of one of its own before it.
    /// </summary>
    private static int CompactBetter(ReadOnlySpan<float> logits, int skip, float pv, int pid, Span<int> ids, Span<float> values, out bool listed)
    {
        var end = logits.Length - 1;
        var n = 1;
        var i = 0;
        var floor = Vector256.Create(float.MinValue);
        var below = Vector256<float>.Zero;
        var vpv = Vector256.Create(pv);
        var vpid = Vector256.Create(pid);
        var first = Vector256.Create(0);
        var middle = Vector256.Create(skip);
        ref var src = ref MemoryMarshal.GetReference(logits);
        ref var idOut = ref MemoryMarshal.GetReference(ids);
        ref var valueOut = ref MemoryMarshal.GetReference(values);
        // Writes reach 8 past n, and n stays at most i + 1, so they stay inside lists as long as the logits.
        for (; i <= end - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            var v = Vector256.LoadUnsafe(ref src, (nuint)i);
            below |= ~Vector256.GreaterThanOrEqual(v, floor);
            var id = Vector256.Create(i) + Vector256<int>.Indices;
            var mask = BetterMask(v, id, vpv, vpid) & ~(Vector256.Equals(id, first) | Vector256.Equals(id, middle)).AsSingle();
            var bits = mask.ExtractMostSignificantBits();
            if (bits == 0) continue;
            n = VectorCompress.StorePair(v, id, bits, ref valueOut, ref idOut, n);
        }
        listed = below == Vector256<float>.Zero && logits[end] >= float.MinValue;
        for (; i < end; i++)
        {
            listed &= logits[i] >= float.MinValue;
            if (i == 0 || i == skip || !(logits[i] > pv || (logits[i] == pv && i < pid))) continue;
            values[n] = logits[i];
            ids[n++] = i;
        }
        return n - 1;
    }

    /// <summary>
    /// The selection loop from the range [lo, hi], <paramref name="target"/> the index the k-th best must reach.
    /// With spare lists (as long as the range's end) the better sides are copied between the two, and the
    /// k best end in <paramref name="ids"/> and <paramref name="values"/>.
    /// </summary>
    private static void Continue(Span<int> ids, Span<float> values, int lo, int hi, int target, bool keepRest, Span<int> spareIds = default, Span<float> spareValues = default)
    {
        var resultIds = ids;
        var resultValues = values;
        var spare = !keepRest && VectorCompress.IsSupported && spareIds.Length > hi && spareValues.Length > hi;
        while (lo < hi)
        {
            // Median-of-three keeps sorted or reverse-sorted vocabularies from going quadratic.
            var mid = lo + (hi - lo) / 2;
            if (Better(values, ids, mid, lo)) Swap(values, ids, mid, lo);
            if (Better(values, ids, hi, lo)) Swap(values, ids, hi, lo);
            if (Better(values, ids, mid, hi)) Swap(values, ids, mid, hi);
            var store = -1;
            if (!keepRest && hi - lo >= VectorRange)
            {
                if (!spare) store = KeepBetterSide(values, ids, lo, hi, target);
                else if ((store = CopyBetterSide(values, ids, lo, hi, target, spareValues, spareIds)) >= 0)
                {
                    var oldIds = ids;
                    ids = spareIds;
                    spareIds = oldIds;
                    var oldValues = values;
                    values = spareValues;
                    spareValues = oldValues;
                }
            }
            if (store < 0) store = Partition(values, ids, lo, hi);
            if (store == target) break;
            if (store > target) hi = store - 1;
            else lo = store + 1;
        }
        if (ids == resultIds) return;
        ids[..(target + 1)].CopyTo(resultIds);
        values[..(target + 1)].CopyTo(resultValues);
    }

    /// <summary>
    /// <see cref="KeepBetterSide"/> in one pass: the better-than-pivot side of [lo, hi) is written to the spare
    /// lists from lo, the pivot after it, and [0, lo) copied over, when that side reaches <paramref name="target"/>;
    /// returns the pivot's position then, else -1 with the lists as they were (the spare ones hold garbage).
    /// </summary>
    private static int CopyBetterSide(Span<float> values, Span<int> ids, int lo, int hi, int target, Span<float> spareValues, Span<int> spareIds)
    {
        var pv = values[hi];
        var pid = ids[hi];
        var vpv = Vector256.Create(pv);
        var vpid = Vector256.Create(pid);
        ref var v0 = ref MemoryMarshal.GetReference(values);
        ref var id0 = ref MemoryMarshal.GetReference(ids);
        ref var vOut = ref MemoryMarshal.GetReference(spareValues);
        ref var idOut = ref MemoryMarshal.GetReference(spareIds);
        // Writes reach 8 past n, and n stays at most i, so they end within [0, hi].
        var n = lo;
        var i = lo;
        for (; i <= hi - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            var v = Vector256.LoadUnsafe(ref v0, (nuint)i);
            var id = Vector256.LoadUnsafe(ref id0, (nuint)i);
            var bits = BetterMask(v, id, vpv, vpid).ExtractMostSignificantBits();
            if (bits != 0) n = VectorCompress.StorePair(v, id, bits, ref vOut, ref idOut, n);
        }
        for (; i < hi; i++)
        {
            if (!(values[i] > pv || (values[i] == pv && ids[i] < pid))) continue;
            spareValues[n] = values[i];
            spareIds[n++] = ids[i];
        }
        if (n < target) return -1;
        spareValues[n] = pv;
        spareIds[n] = pid;
        values[..lo].CopyTo(spareValues);
        ids[..lo].CopyTo(spareIds);
        return n;
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
                    n = VectorCompress.StorePair(Vector256.LoadUnsafe(ref v0, (nuint)i), Vector256.LoadUnsafe(ref id0, (nuint)i), bits, ref v0, ref id0, n);
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
