using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Engine.Tensors;

/// <summary>A compile-time count of activation rows, so the JIT specializes a kernel per tile height.</summary>
internal interface ISeqCount
{
    static abstract int N { get; }
}

internal struct Seq1 : ISeqCount { public static int N => 1; }

internal struct Seq2 : ISeqCount { public static int N => 2; }

internal struct Seq3 : ISeqCount { public static int N => 3; }

internal struct Seq4 : ISeqCount { public static int N => 4; }

/// <summary>
/// Dot products of one weight row of a format without a min (Q4_0, Q5_0, Q8_0, IQ4_NL) with up to four
/// <see cref="Q8Activation"/> rows, each weight block decoded once and reused for every activation row.
/// Numerics as <see cref="Dot32"/>: each block's dot is an exact integer; block b adds (dw·da)·isum into
/// float lane b % 4; the lanes are reduced as (l0+l1)+(l2+l3). Scalar and AVX2 agree bit for bit.
/// </summary>
internal static unsafe class Dot32Q8
{
    public static void Avx2Kernel<T>(byte* w, byte* a, nint aStride, int nSeq, int n, float* y, nint yStride)
        where T : struct, IBlock32
    {
        switch (nSeq)
        {
            case 1: Tile<T, Seq1>(w, a, aStride, n, y, yStride); break;
            case 2: Tile<T, Seq2>(w, a, aStride, n, y, yStride); break;
            case 3: Tile<T, Seq3>(w, a, aStride, n, y, yStride); break;
            default: Tile<T, Seq4>(w, a, aStride, n, y, yStride); break;
        }
    }

    /// <summary>Exact integer dot of a decoded weight block with one activation block, in eight partial lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> BlockDot<T>(Vector256<byte> q, Vector256<byte> qAbs, byte* act) where T : struct, IBlock32
    {
        var a = Vector256.Load(act).AsSByte();
        // maddubs multiplies unsigned by signed bytes: biased formats decode unsigned and correct with the
        // activation sum later; signed ones move the weight's sign onto the activation.
        var pairs = T.Bias != 0
            ? Avx2.MultiplyAddAdjacent(q, a)
            : Avx2.MultiplyAddAdjacent(qAbs, Avx2.Sign(a, q.AsSByte()));
        return Avx2.MultiplyAddAdjacent(pairs, Vector256<short>.One);
    }

    /// <summary>(dw·da)·isum of four consecutive blocks for one activation row, one block per lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Group<T>(Vector256<byte> q0, Vector256<byte> q1, Vector256<byte> q2, Vector256<byte> q3,
        Vector256<byte> m0, Vector256<byte> m1, Vector256<byte> m2, Vector256<byte> m3,
        Vector128<float> dw, byte* ap, float* scales, int* sums) where T : struct, IBlock32
    {
        var p01 = Avx2.HorizontalAdd(BlockDot<T>(q0, m0, ap + 2), BlockDot<T>(q1, m1, ap + 36));
        var p23 = Avx2.HorizontalAdd(BlockDot<T>(q2, m2, ap + 70), BlockDot<T>(q3, m3, ap + 104));
        var h = Avx2.HorizontalAdd(p01, p23);
        var isum = h.GetLower() + h.GetUpper();
        if (T.Bias != 0)
            isum -= Vector128.Load(sums) << T.BiasShift;
        return (dw * Vector128.Load(scales)) * Avx.ConvertToVector128Single(isum);
    }

    private static void Tile<T, TN>(byte* w, byte* a, nint aStride, int n, float* y, nint yStride)
        where T : struct, IBlock32 where TN : struct, ISeqCount
    {
        int nb = n / 32, wb = T.BlockBytes;
        const int ab = Q8Activation.BlockBytes;
        nint scaleOff = (nint)nb * ab, sumOff = (nint)nb * (ab + 4);
        byte* a1 = a + aStride, a2 = a1 + aStride, a3 = a2 + aStride;
        var acc0 = Vector128<float>.Zero;
        var acc1 = Vector128<float>.Zero;
        var acc2 = Vector128<float>.Zero;
        var acc3 = Vector128<float>.Zero;
        int b = 0;
        for (; b + 4 <= nb; b += 4)
        {
            byte* wp = w + (nint)b * wb;
            var q0 = T.Decode(wp);
            var q1 = T.Decode(wp + wb);
            var q2 = T.Decode(wp + 2 * wb);
            var q3 = T.Decode(wp + 3 * wb);
            Vector256<byte> m0 = default, m1 = default, m2 = default, m3 = default;
            if (T.Bias == 0)
            {
                m0 = Avx2.Abs(q0.AsSByte());
                m1 = Avx2.Abs(q1.AsSByte());
                m2 = Avx2.Abs(q2.AsSByte());
                m3 = Avx2.Abs(q3.AsSByte());
            }
            var dw = HalfFloat.ToSingle4(wp, wb);
            nint ao = (nint)b * ab, so = scaleOff + 4 * b, io = sumOff + 4 * b;
            acc0 += Group<T>(q0, q1, q2, q3, m0, m1, m2, m3, dw, a + ao, (float*)(a + so), (int*)(a + io));
            if (TN.N > 1)
                acc1 += Group<T>(q0, q1, q2, q3, m0, m1, m2, m3, dw, a1 + ao, (float*)(a1 + so), (int*)(a1 + io));
            if (TN.N > 2)
                acc2 += Group<T>(q0, q1, q2, q3, m0, m1, m2, m3, dw, a2 + ao, (float*)(a2 + so), (int*)(a2 + io));
            if (TN.N > 3)
                acc3 += Group<T>(q0, q1, q2, q3, m0, m1, m2, m3, dw, a3 + ao, (float*)(a3 + so), (int*)(a3 + io));
        }
        if (b < nb)
        {
            Tail<T>(w, a, b, nb, ref acc0);
            if (TN.N > 1) Tail<T>(w, a1, b, nb, ref acc1);
            if (TN.N > 2) Tail<T>(w, a2, b, nb, ref acc2);
            if (TN.N > 3) Tail<T>(w, a3, b, nb, ref acc3);
        }
        y[0] = Reduce(acc0);
        if (TN.N > 1) y[yStride] = Reduce(acc1);
        if (TN.N > 2) y[2 * yStride] = Reduce(acc2);
        if (TN.N > 3) y[3 * yStride] = Reduce(acc3);
    }

    /// <summary>The last nb % 4 blocks, one at a time into their lanes.</summary>
    private static void Tail<T>(byte* w, byte* a, int b, int nb, ref Vector128<float> acc) where T : struct, IBlock32
    {
        float* scales = Q8Activation.Scales(a, nb);
        int* sums = Q8Activation.Sums(a, nb);
        for (; b < nb; b++)
        {
            byte* wp = w + (nint)b * T.BlockBytes;
            var q = T.Decode(wp);
            var m = T.Bias == 0 ? Avx2.Abs(q.AsSByte()) : default;
            var p = BlockDot<T>(q, m, a + (nint)b * Q8Activation.BlockBytes + 2);
            var h = p.GetLower() + p.GetUpper();
            int isum = h.GetElement(0) + h.GetElement(1) + h.GetElement(2) + h.GetElement(3);
            if (T.Bias != 0)
                isum -= sums[b] << T.BiasShift;
            int lane = b & 3;
            acc = acc.WithElement(lane, acc.GetElement(lane) + (HalfFloat.ToSingle(wp) * scales[b]) * isum);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Reduce(Vector128<float> v) => (v.GetElement(0) + v.GetElement(1)) + (v.GetElement(2) + v.GetElement(3));

    public static void ScalarKernel<T>(byte* w, byte* a, nint aStride, int nSeq, int n, float* y, nint yStride)
        where T : struct, IBlock32
    {
        int nb = n / 32, wb = T.BlockBytes;
        int* q = stackalloc int[32];
        float* acc = stackalloc float[4];
        for (int s = 0; s < nSeq; s++, a += aStride)
        {
            float* scales = Q8Activation.Scales(a, nb);
            acc[0] = acc[1] = acc[2] = acc[3] = 0;
            for (int b = 0; b < nb; b++)
            {
                byte* wp = w + (nint)b * wb;
                T.DecodeScalar(wp, q);
                sbyte* qa = (sbyte*)(a + (nint)b * Q8Activation.BlockBytes + 2);
                int isum = 0;
                for (int j = 0; j < 32; j++)
                    isum += q[j] * qa[j];
                acc[b & 3] += (HalfFloat.ToSingle(wp) * scales[b]) * isum;
            }
            y[s * yStride] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
        }
    }
}
