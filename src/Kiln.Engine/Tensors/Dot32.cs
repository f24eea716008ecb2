using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Engine.Tensors;

/// <summary>
/// Dot products of one weight row of a format with a min (Q4_1, Q5_1) with up to four Q8_1 activation
/// rows, the weight decoded once per block and reused for every activation row (formats without a min
/// use <see cref="Gemm32Q8"/>).
/// Numerics: each block's dot is an exact integer; block b adds (dw·da)·isum and dm·s into float lanes
/// b % 4; the lanes are reduced as (l0+l1)+(l2+l3). The scalar and AVX2 kernels follow this order
/// exactly, so they agree bit for bit.
/// </summary>
internal static unsafe class Dot32
{
    public const int MaxSeq = 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> BlockDot(Vector256<byte> q, byte* act)
        // Unsigned weight quants times signed activations: exactly what maddubs multiplies.
        => Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(q, Vector256.Load(act).AsSByte()), Vector256<short>.One);

    /// <summary>Lane k of the result is the sum of the eight lanes of pk.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Sum4(Vector256<int> p0, Vector256<int> p1, Vector256<int> p2, Vector256<int> p3)
    {
        var h = Avx2.HorizontalAdd(Avx2.HorizontalAdd(p0, p1), Avx2.HorizontalAdd(p2, p3));
        return h.GetLower() + h.GetUpper();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Sum(Vector256<int> p)
    {
        var h = p.GetLower() + p.GetUpper();
        return h.GetElement(0) + h.GetElement(1) + h.GetElement(2) + h.GetElement(3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Reduce(float l0, float l1, float l2, float l3) => (l0 + l1) + (l2 + l3);

    public static void Avx2Kernel<T>(byte* w, byte* a, nint aStride, int nSeq, int n, float* y, nint yStride)
        where T : struct, IBlock32
    {
        int nb = n / 32, wb = T.BlockBytes, ab = T.HasMin ? 36 : 34, aq = ab - 32;
        var acc = stackalloc Vector128<float>[MaxSeq];
        var accM = stackalloc Vector128<float>[MaxSeq];
        for (int s = 0; s < nSeq; s++)
            acc[s] = accM[s] = Vector128<float>.Zero;
        int b = 0;
        for (; b + 4 <= nb; b += 4)
        {
            byte* wp = w + (nint)b * wb;
            var q0 = T.Decode(wp);
            var q1 = T.Decode(wp + wb);
            var q2 = T.Decode(wp + 2 * wb);
            var q3 = T.Decode(wp + 3 * wb);
            var dwRaw = HalfFloat.Gather4(wp, wb);
            var mwRaw = T.HasMin ? HalfFloat.Gather4(wp + 2, wb) : default;
            byte* ap = a + (nint)b * ab;
            for (int s = 0; s < nSeq; s++, ap += aStride)
            {
                var isum = Sum4(
                    BlockDot(q0, ap + aq),
                    BlockDot(q1, ap + ab + aq),
                    BlockDot(q2, ap + 2 * ab + aq),
                    BlockDot(q3, ap + 3 * ab + aq));
                // Weight and activation scales widen together in one 8-lane conversion.
                var scales = HalfFloat.ToSingle(Vector256.Create(dwRaw, HalfFloat.Gather4(ap, ab)));
                acc[s] += (scales.GetLower() * scales.GetUpper()) * Avx.ConvertToVector128Single(isum);
                if (T.HasMin)
                {
                    var mins = HalfFloat.ToSingle(Vector256.Create(mwRaw, HalfFloat.Gather4(ap + 2, ab)));
                    accM[s] += mins.GetLower() * mins.GetUpper();
                }
            }
        }
        for (; b < nb; b++)
        {
            byte* wp = w + (nint)b * wb;
            var q = T.Decode(wp);
            float dw = HalfFloat.ToSingle(wp), mw = T.HasMin ? HalfFloat.ToSingle(wp + 2) : 0;
            int lane = b & 3;
            byte* ap = a + (nint)b * ab;
            for (int s = 0; s < nSeq; s++, ap += aStride)
            {
                int isum = Sum(BlockDot(q, ap + aq));
                float da = HalfFloat.ToSingle(ap);
                acc[s] = acc[s].WithElement(lane, acc[s].GetElement(lane) + (dw * da) * isum);
                if (T.HasMin)
                    accM[s] = accM[s].WithElement(lane, accM[s].GetElement(lane) + mw * HalfFloat.ToSingle(ap + 2));
            }
        }
        for (int s = 0; s < nSeq; s++)
        {
            var v = acc[s];
            float r = Reduce(v.GetElement(0), v.GetElement(1), v.GetElement(2), v.GetElement(3));
            if (T.HasMin)
            {
                var u = accM[s];
                r += Reduce(u.GetElement(0), u.GetElement(1), u.GetElement(2), u.GetElement(3));
            }
            y[s * yStride] = r;
        }
    }

    public static void ScalarKernel<T>(byte* w, byte* a, nint aStride, int nSeq, int n, float* y, nint yStride)
        where T : struct, IBlock32
    {
        int nb = n / 32, wb = T.BlockBytes, ab = T.HasMin ? 36 : 34, aq = ab - 32;
        int* q = stackalloc int[32];
        float* acc = stackalloc float[4 * MaxSeq];
        float* accM = stackalloc float[4 * MaxSeq];
        for (int i = 0; i < 4 * MaxSeq; i++)
            acc[i] = accM[i] = 0;
        for (int b = 0; b < nb; b++)
        {
            byte* wp = w + (nint)b * wb;
            T.DecodeScalar(wp, q);
            float dw = HalfFloat.ToSingle(wp), mw = T.HasMin ? HalfFloat.ToSingle(wp + 2) : 0;
            int lane = b & 3;
            byte* ap = a + (nint)b * ab;
            for (int s = 0; s < nSeq; s++, ap += aStride)
            {
                sbyte* qa = (sbyte*)(ap + aq);
                int isum = 0;
                for (int j = 0; j < 32; j++)
                    isum += q[j] * qa[j];
                float da = HalfFloat.ToSingle(ap);
                acc[4 * s + lane] += (dw * da) * isum;
                if (T.HasMin)
                    accM[4 * s + lane] += mw * HalfFloat.ToSingle(ap + 2);
            }
        }
        for (int s = 0; s < nSeq; s++)
        {
            float* l = acc + 4 * s;
            float r = Reduce(l[0], l[1], l[2], l[3]);
            if (T.HasMin)
            {
                float* m = accM + 4 * s;
                r += Reduce(m[0], m[1], m[2], m[3]);
            }
            y[s * yStride] = r;
        }
    }
}
