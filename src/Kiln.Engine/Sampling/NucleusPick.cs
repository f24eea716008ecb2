using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Engine.Sampling;

/// <summary>
/// top_p without sorting the vocabulary. The reference sorts the candidates best first, cuts where
/// the running sum of exp(x - max) reaches top_p of the total, and draws from that prefix in the same
/// order. Here the candidates fall into buckets by logit (a bucket never splits the sorted order),
/// bucket masses find the bucket where the nucleus ends and the bucket where the draw lands, and
/// only those two are sorted. When the logits within a few nats of the maximum already hold the
/// nucleus (a peaked distribution), only those get buckets. Sums taken in another order may differ from the reference's by
/// rounding, so a cut or draw within that error of a boundary is undecided (<see cref="DecisionBand"/>). The first
/// pass uses vectorised exponentials (a band near 1e-7 of the total at the cut); an undecided case repeats with the scalar
/// <see cref="MathF.Exp"/> weights the reference uses (error ~1e-11, only the summation order
/// differs); only when that too is undecided does this give up (returns -1) and the caller runs the reference.
/// </summary>
internal sealed class NucleusPick(int vocab)
{
    private const int CutUndecided = -1;
    private const int DrawUndecided = -2;
    private const int Buckets = 2048;
    // Logits further than this below the maximum share the last bucket: their weight is below e^-32.
    private const float Range = 32f;
    private const float Scale = (Buckets - 1) / Range;

    // Nats below the maximum that the peaked path tries, and how far its float sums must clear the target.
    // Only speed rests on them: a cut not reached within the buckets is undecided, and the reference decides.
    private static readonly float[] Floors = [3f, 6f, 9f, 13f];
    private const double FloorMargin = 1.0 / 512;
    // Dense calls after a miss of the peaked path, doubling with each miss in a row up to 8 times this: a
    // sequence that stays flat pays for the peaked attempt (the costlier pass on flat logits) ever more rarely.
    private const int DenseCallsAfterMiss = 8;
    private const int MaxMissDoublings = 3;

    private int _denseCalls;
    private int _missesInARow;
    // The floor (an index into Floors) that held the nucleus last time: the next peaked call tries it first.
    private int _floorIndex;

    private readonly float[] _mass = new float[vocab];
    private readonly float[] _pickWeights = new float[vocab];
    private readonly double[] _blockSums = new double[(vocab + SoftmaxKernels.Block - 1) / SoftmaxKernels.Block];
    private readonly int[] _bucket = new int[vocab];
    // The ids the peaked pass gave a bucket, in id order, and how many (-1 after the dense pass, which buckets
    // every logit): a bucket's members are looked for among them instead of in all of _bucket.
    private readonly int[] _listed = new int[vocab];
    private int _listedCount = -1;
    // Each bucket's two sums side by side, the mass at 2b and the draw's weight at 2b + 1, and one spare
    // pair that excluded logits add their zeros to: the dense pass updates a bucket with one 16-byte add,
    // without a branch. Only the first _sumsUsed pairs are current (the peaked pass clears no more than
    // its logits can reach).
    private readonly double[] _sums = new double[2 * (Buckets + 1)];
    private int _sumsUsed;

    /// <summary>
    /// Draws with <paramref name="r"/> from the nucleus of the logits at or above <paramref name="threshold"/>,
    /// weighting by exp((x - max) * invT); returns the token, or -1 when the reference must decide.
    /// <paramref name="ids"/> and <paramref name="keys"/> are scratch as long as the vocabulary.
    /// </summary>
    public int TryPick(ReadOnlySpan<float> logits, float max, float threshold, float invT, float topP, double r, int[] ids, ulong[] keys)
    {
        double total;
        if (_denseCalls > 0)
        {
            _denseCalls--;
            total = FirstPass(logits, max, threshold, invT);
        }
        else
        {
            total = SoftmaxKernels.ExpWeights(logits, max, 1f, threshold, _mass, _blockSums);
            // When the floor left most of the vocabulary in (a flat distribution), the fused pass is cheaper
            // for the next calls: consecutive steps of a sequence are alike.
            if (PeakedBuckets(logits, max, threshold, invT, topP, total) < logits.Length / 2)
                _denseCalls = DenseCallsAfterMiss << Math.Min(_missesInARow++, MaxMissDoublings);
            else
                _missesInARow = 0;
        }
        var weights = invT != 1f ? _pickWeights : _mass;

        // Near a boundary, the same decision again with the reference's own weights and a far smaller
        // band: the masses when the cut was undecided, the draw's weights when the draw was.
        var fast = DecisionBand.Fast(logits.Length);
        var exact = DecisionBand.Exact(logits.Length);
        bool massExact = false, pickExact = false;
        while (true)
        {
            var token = Decide(logits, total, weights, topP, r, massExact ? exact : fast, pickExact ? exact : fast, ids, keys);
            if (token >= 0) return token;
            if (token == CutUndecided && !massExact)
            {
                total = ExactSums(logits, max, 1f, threshold, _mass, MassSum);
                massExact = true;
                if (invT == 1f)
                {
                    for (var b = 0; b < _sumsUsed; b++) _sums[2 * b + PickSum] = _sums[2 * b + MassSum];
                    pickExact = true;
                }
            }
            else if (token == DrawUndecided && !pickExact)
            {
                ExactSums(logits, max, invT, float.PositiveInfinity, _pickWeights, PickSum);
                pickExact = true;
            }
            else
            {
                return -1;
            }
        }
    }

    /// <summary>
    /// Buckets the logits within a floor of the maximum that holds the nucleus (the masses and their
    /// <paramref name="total"/> already in <see cref="_mass"/>); returns how many logits were skipped. The floor that
    /// held it last time is tried first, and the bucket sums tell whether it did (and whether the next smaller one
    /// would have, which the next call then tries); when it falls short, <see cref="FloorFor"/> picks one and the
    /// bucket pass runs again.
    /// </summary>
    private int PeakedBuckets(ReadOnlySpan<float> logits, float max, float threshold, float invT, float topP, double total)
    {
        var need = topP * total * (1 + FloorMargin);
        if (float.IsFinite(max))
        {
            var skipped = BucketPass(logits, max, threshold, invT, Floors[_floorIndex]);
            if (MassInBuckets(_sumsUsed) >= need)
            {
                // A bucket below the smaller floor's lies wholly within it.
                if (_floorIndex > 0 && MassInBuckets((int)(Floors[_floorIndex - 1] * Scale)) >= need) _floorIndex--;
                return skipped;
            }
        }
        var floor = FloorFor(logits, max, need);
        _floorIndex = float.IsFinite(floor) ? Array.IndexOf(Floors, floor) : Floors.Length - 1;
        return BucketPass(logits, max, threshold, invT, floor);
    }

    /// <summary>The mass in the first <paramref name="buckets"/> buckets.</summary>
    private double MassInBuckets(int buckets)
    {
        double sum = 0;
        for (var b = 0; b < buckets; b++) sum += _sums[2 * b];
        return sum;
    }

    /// <summary>
    /// The smallest of <see cref="Floors"/> (nats below the maximum) above which the masses in <see cref="_mass"/>
    /// surely reach <paramref name="need"/> (+inf when none does). On a peaked distribution the nucleus lies within
    /// a few nats of the maximum, and only the logits above the floor then need buckets. The masses above each
    /// floor are float sums (within (n/8) x 2^-24 of exact per lane), hence <see cref="FloorMargin"/> in the need.
    /// </summary>
    private float FloorFor(ReadOnlySpan<float> logits, float max, double need)
    {
        // The masses above each floor, in a pass of their own over the stored masses: in the exponentials' pass,
        // four more accumulators cost more than the exponentials (the registers ran out).
        var (a0, a1, a2, a3) = FloorSums(logits, _mass, max);
        // The tail's few weights are left out of the floors' sums: that only understates them.
        if (Sum(a0) >= need) return Floors[0];
        if (Sum(a1) >= need) return Floors[1];
        if (Sum(a2) >= need) return Floors[2];
        if (Sum(a3) >= need) return Floors[3];
        return float.PositiveInfinity;

        static double Sum(Vector256<float> a)
        {
            var (lo, hi) = Vector256.Widen(a);
            return Vector256.Sum(lo + hi);
        }
    }

    /// <summary>Per lane, the float sums of the masses of the logits within each of <see cref="Floors"/> of the maximum (whole vectors only).</summary>
    private static (Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>) FloorSums(ReadOnlySpan<float> logits, float[] masses, float max)
    {
        ref var src = ref MemoryMarshal.GetReference(logits);
        ref var mass = ref MemoryMarshal.GetArrayDataReference(masses);
        var vmax = Vector256.Create(max);
        var f0 = Vector256.Create(-Floors[0]);
        var f1 = Vector256.Create(-Floors[1]);
        var f2 = Vector256.Create(-Floors[2]);
        var f3 = Vector256.Create(-Floors[3]);
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (var i = 0; i <= logits.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            var d = Vector256.LoadUnsafe(ref src, (nuint)i) - vmax;
            var m = Vector256.LoadUnsafe(ref mass, (nuint)i);
            a0 += m & Vector256.GreaterThanOrEqual(d, f0);
            a1 += m & Vector256.GreaterThanOrEqual(d, f1);
            a2 += m & Vector256.GreaterThanOrEqual(d, f2);
            a3 += m & Vector256.GreaterThanOrEqual(d, f3);
        }
        return (a0, a1, a2, a3);
    }

    /// <summary>
    /// Cuts the nucleus and draws from it using the bucket sums and <see cref="_mass"/>; <see cref="CutUndecided"/>
    /// or <see cref="DrawUndecided"/> when the cut or the draw is within its band of a boundary.
    /// </summary>
    private int Decide(ReadOnlySpan<float> logits, double total, float[] weights, float topP, double r, DecisionBand cutBand, DecisionBand drawBand, int[] ids, ulong[] keys)
    {
        // The bucket where the running mass reaches the target; everything before it is in the nucleus.
        var target = topP * total;
        var cut = 0;
        double massBefore = 0, pickBefore = 0;
        while (cut < _sumsUsed && massBefore + _sums[2 * cut] < target)
        {
            massBefore += _sums[2 * cut];
            pickBefore += _sums[2 * cut + 1];
            cut++;
        }
        if (cut == _sumsUsed) return CutUndecided;
        var order = new LogitOrder(logits);
        var m = Members(cut, ids);
        order.Sort(ids.AsSpan(0, m), keys);
        var kept = 0;
        var cum = massBefore;
        while (true)
        {
            if (kept == m) return CutUndecided; // the bucket's members did not reach the target its mass did
            var after = cum + _mass[ids[kept++]];
            if (after < target)
            {
                cum = after;
                continue;
            }
            if (!(cum < target - cutBand.Around(cum, total, topP) && after >= target + cutBand.Around(after, total, topP))) return CutUndecided;
            break;
        }

        double pickTotal = pickBefore;
        for (var i = 0; i < kept; i++) pickTotal += weights[ids[i]];
        var u = r * pickTotal;
        if (u >= pickBefore) return Find(ids.AsSpan(0, kept), weights, pickBefore, r, pickTotal, drawBand);

        var b = 0;
        double start = 0;
        while (b < cut - 1 && start + _sums[2 * b + 1] <= u) start += _sums[2 * b++ + 1];
        m = Members(b, ids);
        order.Sort(ids.AsSpan(0, m), keys);
        return Find(ids.AsSpan(0, m), weights, start, r, pickTotal, drawBand);
    }

    /// <summary>The token whose span of the running sum holds r x total, or <see cref="DrawUndecided"/> when it is within the band of an end.</summary>
    private static int Find(ReadOnlySpan<int> sorted, float[] weights, double before, double r, double total, DecisionBand band)
    {
        var u = r * total;
        foreach (var id in sorted)
        {
            var after = before + weights[id];
            if (after > u) return WeightedPick.Clear(before, after, r, total, band) ? id : DrawUndecided;
            before = after;
        }
        return DrawUndecided;
    }

    /// <summary>
    /// The vectorised weights (the mass at temperature 1 into <see cref="_mass"/>, the draw's into
    /// <see cref="_pickWeights"/> when the temperature is not 1), each logit's bucket, and both bucket sums,
    /// in one pass: the scatter-adds read eight weights just written instead of streaming three arrays
    /// again. Returns the total mass.
    /// </summary>
    private double FirstPass(ReadOnlySpan<float> logits, float max, float threshold, float invT)
    {
        _listedCount = -1;
        var separate = ClearSums(invT, Buckets);
        ref var mass = ref MemoryMarshal.GetArrayDataReference(_mass);
        ref var pick = ref MemoryMarshal.GetArrayDataReference(separate ? _pickWeights : _mass);
        ref var bucket = ref MemoryMarshal.GetArrayDataReference(_bucket);
        double total = 0;
        var i = 0;
        if (Avx.IsSupported)
        {
            ref var pairs = ref MemoryMarshal.GetArrayDataReference(_sums);
            var vmax = Vector256.Create(max);
            var vinvT = Vector256.Create(invT);
            var vt = Vector256.Create(threshold);
            var scale = Vector256.Create(Scale);
            var excluded = Vector256.Create(Buckets);
            var acc = Vector256<double>.Zero;
            // Both exponentials side by side when the arguments are never NaN (a finite maximum; a NaN logit
            // fails the threshold): a kept logit more than 87.3 nats down then weighs e^-87.3 instead of 0,
            // under 2^-125.9 next to the maximum's 1, in the last bucket either way.
            var pair = separate && float.IsFinite(max);
            ref var src = ref MemoryMarshal.GetReference(logits);
            for (; i <= logits.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var v = Vector256.LoadUnsafe(ref src, (nuint)i);
                var keep = Vector256.GreaterThanOrEqual(v, vt);
                var d = v - vmax;
                Vector256<float> m, p;
                if (pair)
                {
                    (m, p) = FastExp.ExpPair(d, d * vinvT);
                    m &= keep;
                    p &= keep;
                }
                else
                {
                    m = FastExp.Exp(d) & keep;
                    p = separate ? FastExp.Exp(d * vinvT) & keep : m;
                }
                m.StoreUnsafe(ref mass, (nuint)i);
                var (mlo, mhi) = Vector256.Widen(m);
                acc += mlo + mhi;
                var (plo, phi) = (mlo, mhi);
                if (separate)
                {
                    p.StoreUnsafe(ref pick, (nuint)i);
                    (plo, phi) = Vector256.Widen(p);
                }
                var b = Vector256.ConditionalSelect(keep.AsInt32(), BucketOf(vmax - v, scale), excluded);
                b.StoreUnsafe(ref bucket, (nuint)i);
                // (mass, pick) of logits 0 and 2, then 1 and 3, of each half: one 16-byte add per logit,
                // in the logits' order within each bucket, as the scalar loop adds them.
                var even = Avx.UnpackLow(mlo, plo);
                var odd = Avx.UnpackHigh(mlo, plo);
                AddPair(ref pairs, b.GetElement(0), even.GetLower());
                AddPair(ref pairs, b.GetElement(1), odd.GetLower());
                AddPair(ref pairs, b.GetElement(2), even.GetUpper());
                AddPair(ref pairs, b.GetElement(3), odd.GetUpper());
                even = Avx.UnpackLow(mhi, phi);
                odd = Avx.UnpackHigh(mhi, phi);
                AddPair(ref pairs, b.GetElement(4), even.GetLower());
                AddPair(ref pairs, b.GetElement(5), odd.GetLower());
                AddPair(ref pairs, b.GetElement(6), even.GetUpper());
                AddPair(ref pairs, b.GetElement(7), odd.GetUpper());
            }
            total = Vector256.Sum(acc);
        }
        for (; i < logits.Length; i++)
        {
            var x = logits[i];
            var keep = x >= threshold;
            var m = keep ? MathF.Exp(x - max) : 0f;
            _mass[i] = m;
            total += m;
            var p = m;
            if (separate) _pickWeights[i] = p = keep ? MathF.Exp((x - max) * invT) : 0f;
            var b = keep ? (int)MathF.Min((max - x) * Scale, Buckets - 1f) : Buckets;
            _bucket[i] = b;
            if ((uint)b >= Buckets) continue;
            _sums[2 * b] += m;
            _sums[2 * b + 1] += p;
        }
        return total;
    }

    /// <summary>
    /// The bucket of each lane's distance below the maximum, at most the last. The conversion is the
    /// processor's own (the saturating one adds a dozen instructions per eight); whatever it makes of
    /// NaN or an overflow (int.MinValue on x86), the unsigned minimum brings it into range.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> BucketOf(Vector256<float> below, Vector256<float> scale) =>
        Vector256.Min(Vector256.ConvertToInt32Native(below * scale).AsUInt32(), Vector256.Create((uint)Buckets - 1)).AsInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddPair(ref double pairs, int bucket, Vector128<double> pair)
    {
        ref var at = ref Unsafe.Add(ref pairs, 2 * bucket);
        (Vector128.LoadUnsafe(ref at) + pair).StoreUnsafe(ref at);
    }

    /// <summary>
    /// Each logit's bucket, the draw's weights into <see cref="_pickWeights"/> (when the temperature is not 1)
    /// and both bucket sums, for the logits at most <paramref name="floor"/> below the maximum (the masses are
    /// already in <see cref="_mass"/>), listed in <see cref="_listed"/>; the rest get no bucket, eight at a time.
    /// Returns how many logits were skipped that way.
    /// </summary>
    private int BucketPass(ReadOnlySpan<float> logits, float max, float threshold, float invT, float floor)
    {
        // A logit at most floor below the maximum lands at most floor * Scale buckets down (one more for rounding).
        var separate = ClearSums(invT, floor < Range ? (int)(floor * Scale) + 2 : Buckets);
        ref var src = ref MemoryMarshal.GetReference(logits);
        ref var mass = ref MemoryMarshal.GetArrayDataReference(_mass);
        ref var pick = ref MemoryMarshal.GetArrayDataReference(separate ? _pickWeights : _mass);
        ref var bucket = ref MemoryMarshal.GetArrayDataReference(_bucket);
        ref var bucketMass = ref MemoryMarshal.GetArrayDataReference(_sums);
        ref var bucketPick = ref Unsafe.Add(ref bucketMass, 1);
        var vmax = Vector256.Create(max);
        var vinvT = Vector256.Create(invT);
        var vt = Vector256.Create(threshold);
        var vfloor = Vector256.Create(-floor);
        var scale = Vector256.Create(Scale);
        var excluded = Vector256.Create(Buckets);
        ref var listed = ref MemoryMarshal.GetArrayDataReference(_listed);
        var count = 0;
        var skipped = 0;
        var i = 0;
        for (; i <= logits.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            var v = Vector256.LoadUnsafe(ref src, (nuint)i);
            var d = v - vmax;
            var keep = Vector256.GreaterThanOrEqual(v, vt) & Vector256.GreaterThanOrEqual(d, vfloor);
            if (keep == Vector256<float>.Zero)
            {
                excluded.StoreUnsafe(ref bucket, (nuint)i);
                skipped += Vector256<float>.Count;
                continue;
            }
            if (separate) (FastExp.Exp(d * vinvT) & keep).StoreUnsafe(ref pick, (nuint)i);
            var b = BucketOf(vmax - v, scale);
            Vector256.ConditionalSelect(keep.AsInt32(), b, excluded).StoreUnsafe(ref bucket, (nuint)i);
            var bits = keep.ExtractMostSignificantBits();
            if (bits == 0xFF)
            {
                (Vector256.Create(i) + Vector256<int>.Indices).StoreUnsafe(ref listed, (nuint)count);
                count += Vector256<int>.Count;
                for (var j = i; j < i + Vector256<float>.Count; j++)
                {
                    var bj = 2 * (nuint)(uint)Unsafe.Add(ref bucket, j);
                    Unsafe.Add(ref bucketMass, bj) += Unsafe.Add(ref mass, j);
                    Unsafe.Add(ref bucketPick, bj) += Unsafe.Add(ref pick, j);
                }
                continue;
            }
            while (bits != 0)
            {
                var j = i + BitOperations.TrailingZeroCount(bits);
                Unsafe.Add(ref listed, count++) = j;
                var bj = 2 * (nuint)(uint)Unsafe.Add(ref bucket, j);
                Unsafe.Add(ref bucketMass, bj) += Unsafe.Add(ref mass, j);
                Unsafe.Add(ref bucketPick, bj) += Unsafe.Add(ref pick, j);
                bits &= bits - 1;
            }
        }
        for (; i < logits.Length; i++)
        {
            var x = logits[i];
            if (!(x >= threshold && x - max >= -floor))
            {
                _bucket[i] = Buckets;
                continue;
            }
            _listed[count++] = i;
            var p = separate ? _pickWeights[i] = MathF.Exp((x - max) * invT) : _mass[i];
            var b = (int)MathF.Min((max - x) * Scale, Buckets - 1f);
            _bucket[i] = b;
            _sums[2 * b] += _mass[i];
            _sums[2 * b + 1] += p;
        }
        _listedCount = count;
        return skipped;
    }

    private const int MassSum = 0, PickSum = 1;

    /// <summary>Clears the sums of the first <paramref name="used"/> buckets (the spare pair too when all); whether the draw has weights of its own (else they are the masses).</summary>
    private bool ClearSums(float invT, int used)
    {
        _sumsUsed = Math.Min(used, Buckets);
        Array.Clear(_sums, 0, used >= Buckets ? _sums.Length : 2 * used);
        return invT != 1f;
    }

    /// <summary>
    /// Recomputes <paramref name="w"/> and its bucket sums with <see cref="MathF.Exp"/>'s values (the
    /// reference's weights; vectorised when <see cref="ExactExp.IsExact"/>), the buckets kept. Returns the
    /// total of the logits at or above <paramref name="totalFrom"/> (every survivor, bucketed or not, for the
    /// cut; +inf when no total is wanted).
    /// </summary>
    private double ExactSums(ReadOnlySpan<float> logits, float max, float invT, float totalFrom, float[] w, int component)
    {
        // Every bucketed logit is in the first _sumsUsed buckets.
        for (var b = 0; b < _sumsUsed; b++) _sums[2 * b + component] = 0;
        double total = 0;
        var i = 0;
        if (ExactExp.IsExact)
        {
            ref var src = ref MemoryMarshal.GetReference(logits);
            ref var dst = ref MemoryMarshal.GetArrayDataReference(w);
            ref var bucket = ref MemoryMarshal.GetArrayDataReference(_bucket);
            ref var sums = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_sums), component);
            var vmax = Vector256.Create(max);
            var vinvT = Vector256.Create(invT);
            var vfrom = Vector256.Create(totalFrom);
            var last = Vector256.Create(Buckets - 1);
            var acc = Vector256<double>.Zero;
            for (; i <= logits.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var v = Vector256.LoadUnsafe(ref src, (nuint)i);
                var keep = Vector256.LessThanOrEqual(Vector256.LoadUnsafe(ref bucket, (nuint)i), last).AsSingle() | Vector256.GreaterThanOrEqual(v, vfrom);
                if (keep == Vector256<float>.Zero) continue;
                var e = ExactExp.Exp((v - vmax) * vinvT) & keep;
                e.StoreUnsafe(ref dst, (nuint)i);
                var (lo, hi) = Vector256.Widen(e);
                acc += lo + hi;
                for (var j = i; j < i + Vector256<float>.Count; j++)
                {
                    var bj = (uint)Unsafe.Add(ref bucket, j);
                    if (bj < Buckets) Unsafe.Add(ref sums, 2 * bj) += Unsafe.Add(ref dst, j);
                }
            }
            total = Vector256.Sum(acc);
        }
        for (; i < logits.Length; i++)
        {
            var b = _bucket[i];
            if ((uint)b >= Buckets && !(logits[i] >= totalFrom)) continue;
            var e = MathF.Exp((logits[i] - max) * invT);
            w[i] = e;
            total += e;
            if ((uint)b < Buckets) _sums[2 * b + component] += e;
        }
        return total;
    }

    /// <summary>Writes the ids in bucket <paramref name="b"/> (in id order); returns how many.</summary>
    private int Members(int b, int[] ids)
    {
        var n = 0;
        if (_listedCount >= 0 && _listedCount <= _bucket.Length / 4)
        {
            // The peaked pass's few ids: reading their buckets is cheaper than testing all of _bucket.
            foreach (var id in _listed.AsSpan(0, _listedCount))
                if (_bucket[id] == b) ids[n++] = id;
            return n;
        }
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            // A bucket holds few ids: one test per 8 skips almost all of them.
            var vb = Vector256.Create(b);
            ref var src = ref MemoryMarshal.GetArrayDataReference(_bucket);
            for (; i <= _bucket.Length - Vector256<int>.Count; i += Vector256<int>.Count)
            {
                var bits = Vector256.Equals(Vector256.LoadUnsafe(ref src, (nuint)i), vb).ExtractMostSignificantBits();
                while (bits != 0)
                {
                    ids[n++] = i + BitOperations.TrailingZeroCount(bits);
                    bits &= bits - 1;
                }
            }
        }
        for (; i < _bucket.Length; i++)
            if (_bucket[i] == b) ids[n++] = i;
        return n;
    }
}
