using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kiln.Engine.Sampling;

/// <summary>
/// Vectorised passes over a whole vocabulary of logits: the maximum, the exponentials with their
/// block sums, and the ids above a threshold. Each has a scalar tail, so any length works.
/// </summary>
internal static class SoftmaxKernels
{
    /// <summary>Elements per block sum: a pick walks block sums first, then one block's weights.</summary>
    public const int Block = 256;

    /// <summary>
    /// How far a weight from <see cref="FastExp"/> may be from <see cref="MathF.Exp"/>'s, relative: 2^-22, twice
    /// the worst found on every float of the sampler's argument range (the tests hold the kernel to half of this).
    /// Only per-weight error counts against it: the fast weights are added in pairs in float (at most 2^-24 more,
    /// relative to the pair, so under 1.5 x 2^-23 per weight in all) and every other sum is taken in double,
    /// whose rounding over a vocabulary (n x 2^-53) is some 10^-5 of this; <see cref="DecisionBand"/> turns it into
    /// the band around a cut or a draw.
    /// </summary>
    public const double ExpTolerance = 1.0 / (1 << 22);

    /// <summary>Largest value; NaN is ignored, and -inf comes back when nothing else is there.</summary>
    public static float Max(ReadOnlySpan<float> x)
    {
        var i = 0;
        var max = float.NegativeInfinity;
        if (Vector256.IsHardwareAccelerated && x.Length >= Vector256<float>.Count)
        {
            var m = Vector256.Create(float.NegativeInfinity);
            ref var start = ref MemoryMarshal.GetReference(x);
            // Four running maxima: one alone waits on its own compare and blend every step. Which of
            // +0 and -0 wins may then differ, and no caller can tell them apart (x - max, x == max).
            var (m1, m2, m3) = (m, m, m);
            for (; i <= x.Length - 4 * Vector256<float>.Count; i += 4 * Vector256<float>.Count)
            {
                m = MaxKeepingNaNOut(m, Vector256.LoadUnsafe(ref start, (nuint)i));
                m1 = MaxKeepingNaNOut(m1, Vector256.LoadUnsafe(ref start, (nuint)(i + Vector256<float>.Count)));
                m2 = MaxKeepingNaNOut(m2, Vector256.LoadUnsafe(ref start, (nuint)(i + 2 * Vector256<float>.Count)));
                m3 = MaxKeepingNaNOut(m3, Vector256.LoadUnsafe(ref start, (nuint)(i + 3 * Vector256<float>.Count)));
            }
            m = MaxKeepingNaNOut(MaxKeepingNaNOut(m, m1), MaxKeepingNaNOut(m2, m3));
            for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
                m = MaxKeepingNaNOut(m, Vector256.LoadUnsafe(ref start, (nuint)i));
            for (var lane = 0; lane < Vector256<float>.Count; lane++) max = m[lane] > max ? m[lane] : max;
        }
        for (; i < x.Length; i++) max = x[i] > max ? x[i] : max;
        return max;
    }

    // A comparison is false for NaN, so NaN never replaces the running maximum.
    private static Vector256<float> MaxKeepingNaNOut(Vector256<float> m, Vector256<float> v) =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(v, m), v, m);

    /// <summary>
    /// Index of the first largest value, NaN ignored: what a scalar scan keeping strictly greater values
    /// returns. When every value is NaN, the last index (where that scan, replacing a NaN best, ends).
    /// </summary>
    public static int ArgMax(ReadOnlySpan<float> x)
    {
        var max = Max(x);
        var i = 0;
        if (Vector256.IsHardwareAccelerated && x.Length >= Vector256<float>.Count)
        {
            var m = Vector256.Create(max);
            ref var start = ref MemoryMarshal.GetReference(x);
            for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var bits = Vector256.Equals(Vector256.LoadUnsafe(ref start, (nuint)i), m).ExtractMostSignificantBits();
                if (bits != 0) return i + BitOperations.TrailingZeroCount(bits);
            }
        }
        for (; i < x.Length; i++)
            if (x[i] == max) return i;
        return x.Length - 1;
    }

    /// <summary>Which vectorised exponential <see cref="ExpWeights"/> uses.</summary>
    public enum ExpKind
    {
        /// <summary><see cref="FastExp"/>: the cheapest, within <see cref="ExpTolerance"/> of <see cref="MathF.Exp"/>.</summary>
        Fast,

        /// <summary><see cref="ExactExp"/>: <see cref="MathF.Exp"/>'s bits (only when <see cref="ExactExp.IsExact"/>).</summary>
        Exact,
    }

    /// <summary>
    /// Writes w[i] = exp((x[i] - max) * invT) (0 below <paramref name="threshold"/> and for NaN) and the double sum of each block of
    /// <see cref="Block"/> weights into <paramref name="blockSums"/>; returns the total, with the exponential <paramref name="kind"/> names.
    /// </summary>
    public static double ExpWeights(ReadOnlySpan<float> x, float max, float invT, float threshold, Span<float> w, Span<double> blockSums, ExpKind kind = ExpKind.Fast)
    {
        // The fast kind takes FastExp.ExpPair (FastBlock) whenever the maximum is finite: then no argument is NaN
        // (a NaN logit fails the threshold), and the threshold rises to where the argument leaves
        // FastExp.NormalMin. Below that line FastExp.Exp flushes to 0; a lane that rounding puts on the other
        // side of it weighs under 2^-125.9 either way, next to the maximum's 1.
        var paired = kind == ExpKind.Fast && float.IsFinite(max) && Vector256.IsHardwareAccelerated;
        if (paired)
        {
            var floor = max + FastExp.NormalMin / invT;
            if (floor > threshold) threshold = floor;
        }
        double total = 0;
        for (int b = 0, start = 0; start < x.Length; b++, start += Block)
        {
            var end = Math.Min(start + Block, x.Length);
            var sum = kind switch
            {
                ExpKind.Exact => ExpBlock<ExactLanes>(x[start..end], max, invT, threshold, w[start..end]),
                _ when paired => FastBlock(x[start..end], max, invT, threshold, w[start..end]),
                _ => ExpBlock<FastLanes>(x[start..end], max, invT, threshold, w[start..end]),
            };
            blockSums[b] = sum;
            total += sum;
        }
        return total;
    }

    /// <summary>One block of <see cref="ExpWeights"/>'s fast kind with <see cref="FastExp.ExpPair"/>, 16 logits a step.</summary>
    private static double FastBlock(ReadOnlySpan<float> x, float max, float invT, float threshold, Span<float> w)
    {
        const int step = 2 * 8;
        var i = 0;
        var acc = Vector256<double>.Zero;
        var vmax = Vector256.Create(max);
        var vinvT = Vector256.Create(invT);
        var vthreshold = Vector256.Create(threshold);
        ref var src = ref MemoryMarshal.GetReference(x);
        ref var dst = ref MemoryMarshal.GetReference(w);
        for (; i <= x.Length - step; i += step)
        {
            var u = Vector256.LoadUnsafe(ref src, (nuint)i);
            var v = Vector256.LoadUnsafe(ref src, (nuint)(i + 8));
            var (e, f) = FastExp.ExpPair((u - vmax) * vinvT, (v - vmax) * vinvT);
            e &= Vector256.GreaterThanOrEqual(u, vthreshold);
            f &= Vector256.GreaterThanOrEqual(v, vthreshold);
            e.StoreUnsafe(ref dst, (nuint)i);
            f.StoreUnsafe(ref dst, (nuint)(i + 8));
            // One float addition per pair before widening (see ExpTolerance): half the conversions.
            var (lo, hi) = Vector256.Widen(e + f);
            acc += lo + hi;
        }
        return Vector256.Sum(acc) + ExpBlock<FastLanes>(x[i..], max, invT, threshold, w[i..]);
    }

    private interface IExpLanes
    {
        static abstract Vector256<float> Exp(Vector256<float> a);
    }

    private readonly struct FastLanes : IExpLanes
    {
        public static Vector256<float> Exp(Vector256<float> a) => FastExp.Exp(a);
    }

    private readonly struct ExactLanes : IExpLanes
    {
        public static Vector256<float> Exp(Vector256<float> a) => ExactExp.Exp(a);
    }

    private static double ExpBlock<TExp>(ReadOnlySpan<float> x, float max, float invT, float threshold, Span<float> w)
        where TExp : struct, IExpLanes
    {
        var i = 0;
        double sum = 0;
        if (Vector256.IsHardwareAccelerated && x.Length >= Vector256<float>.Count)
        {
            var acc = Vector256<double>.Zero;
            var vmax = Vector256.Create(max);
            var vinvT = Vector256.Create(invT);
            var vthreshold = Vector256.Create(threshold);
            ref var src = ref MemoryMarshal.GetReference(x);
            ref var dst = ref MemoryMarshal.GetReference(w);
            for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var v = Vector256.LoadUnsafe(ref src, (nuint)i);
                var e = TExp.Exp((v - vmax) * vinvT);
                e = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(v, vthreshold), e, Vector256<float>.Zero);
                e.StoreUnsafe(ref dst, (nuint)i);
                var (lo, hi) = Vector256.Widen(e);
                acc += lo + hi;
            }
            sum = Vector256.Sum(acc);
        }
        for (; i < x.Length; i++)
        {
            var e = x[i] >= threshold ? MathF.Exp((x[i] - max) * invT) : 0f;
            w[i] = e;
            sum += e;
        }
        return sum;
    }

    /// <summary>
    /// Writes the indices of the elements at or above <paramref name="threshold"/>, ascending, and the
    /// elements themselves into <paramref name="values"/>; returns how many.
    /// </summary>
    public static int IndicesAtLeast(ReadOnlySpan<float> x, float threshold, Span<int> indices, Span<float> values)
    {
        var n = 0;
        var i = 0;
        if (Vector256.IsHardwareAccelerated && x.Length >= Vector256<float>.Count)
        {
            var t = Vector256.Create(threshold);
            var lane = Vector256<int>.Indices;
            // Whole-vector stores need the outputs as long as the input (n <= i keeps them inside).
            var compress = VectorCompress.IsSupported && indices.Length >= x.Length && values.Length >= x.Length;
            ref var start = ref MemoryMarshal.GetReference(x);
            for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                // Most of a vocabulary is below a min_p threshold: one test per 8 logits.
                var v = Vector256.LoadUnsafe(ref start, (nuint)i);
                var bits = Vector256.GreaterThanOrEqual(v, t).ExtractMostSignificantBits();
                if (compress)
                {
                    n = VectorCompress.StorePair(v, Vector256.Create(i) + lane, bits, ref MemoryMarshal.GetReference(values), ref MemoryMarshal.GetReference(indices), n);
                    continue;
                }
                while (bits != 0)
                {
                    var j = i + BitOperations.TrailingZeroCount(bits);
                    values[n] = x[j];
                    indices[n++] = j;
                    bits &= bits - 1;
                }
            }
        }
        for (; i < x.Length; i++)
        {
            if (x[i] >= threshold)
            {
                values[n] = x[i];
                indices[n++] = i;
            }
        }
        return n;
    }
}
