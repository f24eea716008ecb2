using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Kiln.Engine.Tensors;

namespace Kiln.Engine.Models;

/// <summary>
/// The two inner loops of attention over one head's cached keys and values (F32 or F16 rows at a
/// fixed stride): scaled query-key scores and the probability-weighted sum of values. With AVX2 the
/// scores run four positions at once sharing the query loads, and the output stays in registers
/// across all positions; otherwise plain loops.
/// </summary>
internal static unsafe class AttentionMath
{
    /// <summary>AVX2+FMA loops unless <see cref="Simd.Level"/> asks for scalar ones.</summary>
    private static bool Vector => Simd.Level > SimdLevel.Scalar;

    /// <summary>
    /// scores[t] = scale · q·k_t for t &lt; len, where k_t starts at element t·stride of keys. Rows
    /// 0..len of <paramref name="ahead"/> (same layout; null for none) are prefetched on the way: the
    /// run read next, so its misses overlap this arithmetic instead of stalling the next loop.
    /// </summary>
    public static void Scores<T>(float* q, byte* keys, nint stride, int len, int d, float scale, float* scores, byte* ahead = null)
        where T : struct, IFloatWeight
    {
        int t = 0;
        nint rowBytes = stride * T.ElementBytes;
        if (Vector && d % 8 == 0)
        {
            var vs = Vector128.Create(scale);
            for (; t + 4 <= len; t += 4)
            {
                if (ahead != null)
                    Prefetch(ahead + t * rowBytes, 4 * rowBytes);
                byte* k0 = keys + t * rowBytes;
                byte* k1 = k0 + rowBytes, k2 = k1 + rowBytes, k3 = k2 + rowBytes;
                var a0 = Vector256<float>.Zero;
                var a1 = Vector256<float>.Zero;
                var a2 = Vector256<float>.Zero;
                var a3 = Vector256<float>.Zero;
                for (int i = 0; i < d; i += 8)
                {
                    var qv = Vector256.Load(q + i);
                    a0 = Fma.MultiplyAdd(qv, T.Load8(k0, i), a0);
                    a1 = Fma.MultiplyAdd(qv, T.Load8(k1, i), a1);
                    a2 = Fma.MultiplyAdd(qv, T.Load8(k2, i), a2);
                    a3 = Fma.MultiplyAdd(qv, T.Load8(k3, i), a3);
                }
                var h = Avx.HorizontalAdd(Avx.HorizontalAdd(a0, a1), Avx.HorizontalAdd(a2, a3));
                ((h.GetLower() + h.GetUpper()) * vs).Store(scores + t);
            }
        }
        for (; t < len; t++)
        {
            byte* k = keys + t * rowBytes;
            float dot = 0;
            for (int i = 0; i < d; i++)
                dot += q[i] * T.Load(k, i);
            scores[t] = dot * scale;
        }
    }

    /// <summary>o = Σ_t p[t] · v_t over t &lt; len, where v_t starts at element t·stride of values; prefetches rows of <paramref name="ahead"/> as <see cref="Scores"/> does.</summary>
    public static void Mix<T>(float* p, byte* values, nint stride, int len, int d, float* o, byte* ahead = null)
        where T : struct, IFloatWeight
    {
        nint rowBytes = stride * T.ElementBytes;
        int i = 0;
        if (Vector)
        {
            // 32 outputs per pass held in four registers: one FMA each per position, no loads or stores of o.
            for (; i + 32 <= d; i += 32)
            {
                var o0 = Vector256<float>.Zero;
                var o1 = Vector256<float>.Zero;
                var o2 = Vector256<float>.Zero;
                var o3 = Vector256<float>.Zero;
                byte* v = values;
                for (int t = 0; t < len; t++, v += rowBytes)
                {
                    if (ahead != null && i == 0)
                        Prefetch(ahead + t * rowBytes, rowBytes);
                    var pt = Vector256.Create(p[t]);
                    o0 = Fma.MultiplyAdd(pt, T.Load8(v, i), o0);
                    o1 = Fma.MultiplyAdd(pt, T.Load8(v, i + 8), o1);
                    o2 = Fma.MultiplyAdd(pt, T.Load8(v, i + 16), o2);
                    o3 = Fma.MultiplyAdd(pt, T.Load8(v, i + 24), o3);
                }
                o0.Store(o + i);
                o1.Store(o + i + 8);
                o2.Store(o + i + 16);
                o3.Store(o + i + 24);
            }
            for (; i + 8 <= d; i += 8)
            {
                var acc = Vector256<float>.Zero;
                byte* v = values;
                for (int t = 0; t < len; t++, v += rowBytes)
                    acc = Fma.MultiplyAdd(Vector256.Create(p[t]), T.Load8(v, i), acc);
                acc.Store(o + i);
            }
        }
        for (; i < d; i++)
        {
            float acc = 0;
            byte* v = values;
            for (int t = 0; t < len; t++, v += rowBytes)
                acc += p[t] * T.Load(v, i);
            o[i] = acc;
        }
    }

    /// <summary>Prefetches the cache lines of [p, p + bytes) into L1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Prefetch(byte* p, nint bytes)
    {
        for (nint c = 0; c < bytes; c += 64)
            Sse.Prefetch0(p + c);
    }

    /// <summary>
    /// In-place softmax of scores[0..len), the sum in double as llama.cpp does. With AVX2 eight scores
    /// at a time through a vector exp (within an ulp of the scalar one).
    /// </summary>
    public static void Softmax(float* s, int len)
    {
        var max = float.NegativeInfinity;
        int t = 0;
        if (Vector && len >= 8)
        {
            var vmax = Vector256.Load(s);
            for (t = 8; t + 8 <= len; t += 8)
                vmax = Vector256.Max(vmax, Vector256.Load(s + t));
            var m4 = Vector128.Max(vmax.GetLower(), vmax.GetUpper());
            max = MathF.Max(MathF.Max(m4[0], m4[1]), MathF.Max(m4[2], m4[3]));
        }
        for (; t < len; t++)
            if (s[t] > max) max = s[t];
        double sum = 0;
        t = 0;
        if (Vector)
        {
            var vm = Vector256.Create(max);
            var lo = Vector256<double>.Zero;
            var hi = Vector256<double>.Zero;
            for (; t + 8 <= len; t += 8)
            {
                var e = Vector256.Exp(Vector256.Load(s + t) - vm);
                e.Store(s + t);
                lo += Avx.ConvertToVector256Double(e.GetLower());
                hi += Avx.ConvertToVector256Double(e.GetUpper());
            }
            sum = Vector256.Sum(lo + hi);
        }
        for (; t < len; t++)
        {
            var e = MathF.Exp(s[t] - max);
            s[t] = e;
            sum += e;
        }
        var inv = (float)(1.0 / sum);
        t = 0;
        if (Vector)
        {
            var vi = Vector256.Create(inv);
            for (; t + 8 <= len; t += 8)
                (Vector256.Load(s + t) * vi).Store(s + t);
        }
        for (; t < len; t++)
            s[t] *= inv;
    }
}
