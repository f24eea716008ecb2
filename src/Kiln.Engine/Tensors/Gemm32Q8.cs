using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Engine.Tensors;

/// <summary>
/// Block kernel for the 32-element formats without a min (Q5_0, IQ4_NL; Q4_0 and Q8_0 have
/// <see cref="GemmQ4_0"/> and <see cref="GemmQ8_0"/>) against
/// <see cref="Q8Activation"/> rows: each group of four decoded weight blocks serves up to four activation
/// rows, and a weight row's block scales are widened to floats once for all of its activation rows.
/// Signed formats (IQ4_NL) use the sign trick (|q| times a carrying q's sign); biased ones (Q5_0)
/// dot their unsigned quants u = q + bias and subtract dw·bias·(da·Σa) per block.
/// Numerics, per dot: eight float lanes. Block b's exact integer dot (of q, or of u) is split in halves
/// (elements 0..15 and 16..31); lane b % 4 gets fma(first half, dw·da, lane), then for biased formats
/// fma(-bias·dw, da·Σa, lane); lane 4 + b % 4 gets fma(second half, dw·da, lane); block by block. The
/// lanes are reduced by <see cref="LaneFold"/>. The scalar kernel mirrors this bit for
/// bit, and no dot's bits depend on the tile it falls in.
/// </summary>
internal static unsafe class Gemm32Q8
{
    [ThreadStatic] private static float[]? t_scales;

    public static void Avx2Block<T>(byte* w, nint rowBytes, int nRows, byte* a, nint aStride, int nSeq, int n, float* y, nint yStride)
        where T : struct, IBlock32
    {
        int nb = n / 32;
        fixed (float* ws = Scratch((nb + 3) / 4 * 4))
        {
            for (int r = 0; r < nRows; r++)
            {
                byte* wr = w + r * rowBytes;
                WidenScales<T>(wr, nb, ws);
                int s = 0;
                for (; s + 4 <= nSeq; s += 4)
                    Tile<T, Seq4>(wr, ws, a + s * aStride, aStride, nb, y + s * yStride + r, yStride);
                switch (nSeq - s)
                {
                    case 1: Tile<T, Seq1>(wr, ws, a + s * aStride, aStride, nb, y + s * yStride + r, yStride); break;
                    case 2: Tile<T, Seq2>(wr, ws, a + s * aStride, aStride, nb, y + s * yStride + r, yStride); break;
                    case 3: Tile<T, Seq3>(wr, ws, a + s * aStride, aStride, nb, y + s * yStride + r, yStride); break;
                }
            }
        }
    }

    private static float[] Scratch(int length)
    {
        var s = t_scales;
        if (s is null || s.Length < length)
            t_scales = s = new float[Math.Max(length, 1024)];
        return s;
    }

    /// <summary>A weight row's block scales as floats, zero-padded to a multiple of four.</summary>
    private static void WidenScales<T>(byte* w, int nb, float* dst) where T : struct, IBlock32
    {
        int wb = T.BlockBytes, b = 0;
        for (; b + 4 <= nb; b += 4)
            HalfFloat.ToSingle4(w + (nint)b * wb, wb).Store(dst + b);
        for (; b < nb; b++)
            dst[b] = HalfFloat.ToSingle(w + (nint)b * wb);
        for (; (b & 3) != 0; b++)
            dst[b] = 0;
    }

    /// <summary>
    /// Exact integer dot of a weight block with an activation block, lane j covering elements 4j..4j+3:
    /// <paramref name="u"/> is |q| of a signed format (q its signed quants) or the unsigned quants of a biased one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> BlockDot<T>(Vector256<byte> u, Vector256<byte> q, byte* act) where T : struct, IBlock32
    {
        var x = Vector256.Load(act).AsSByte();
        var pairs = T.Bias != 0
            ? Avx2.MultiplyAddAdjacent(u, x)
            : Avx2.MultiplyAddAdjacent(u, Avx2.Sign(x, q.AsSByte()));
        return Avx2.MultiplyAddAdjacent(pairs, Vector256<short>.One);
    }

    /// <summary>The multiplicand <see cref="BlockDot"/> takes for a decoded block: |q| or the unsigned quants.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Unsigned<T>(Vector256<byte> q) where T : struct, IBlock32
        => T.Bias != 0 ? q : Avx2.Abs(q.AsSByte());

    /// <summary>One activation row's step over four blocks: halves into their lanes, scaled, accumulated.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Step<T>(Vector256<int> p0, Vector256<int> p1, Vector256<int> p2, Vector256<int> p3,
        Vector256<float> dw, Vector256<float> dwBias, float* da, float* daSum, Vector256<float> acc) where T : struct, IBlock32
    {
        var h = Avx2.HorizontalAdd(Avx2.HorizontalAdd(p0, p1), Avx2.HorizontalAdd(p2, p3));
        acc = Fma.MultiplyAdd(Avx.ConvertToVector256Single(h), dw * Avx.BroadcastVector128ToVector256(da), acc);
        if (T.Bias != 0)
            acc = Fma.MultiplyAdd(dwBias, Vector256.Create(Vector128.Load(daSum), Vector128<float>.Zero), acc);
        return acc;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Group<T>(Vector256<byte> u0, Vector256<byte> q0, Vector256<byte> u1, Vector256<byte> q1,
        Vector256<byte> u2, Vector256<byte> q2, Vector256<byte> u3, Vector256<byte> q3,
        byte* x, Vector256<float> dw, Vector256<float> dwBias, float* da, float* daSum, Vector256<float> acc) where T : struct, IBlock32
    {
        const int ab = Q8Activation.BlockBytes;
        return Step<T>(BlockDot<T>(u0, q0, x), BlockDot<T>(u1, q1, x + ab), BlockDot<T>(u2, q2, x + 2 * ab), BlockDot<T>(u3, q3, x + 3 * ab),
            dw, dwBias, da, daSum, acc);
    }

    /// <summary>As <see cref="Group"/> for the last, partial group: missing blocks are zeros with scale 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> PartialGroup<T>(byte* w, int b, int nb, byte* x, Vector256<float> dw, Vector256<float> dwBias,
        float* da, float* daSum, Vector256<float> acc) where T : struct, IBlock32
    {
        const int ab = Q8Activation.BlockBytes;
        return Step<T>(PartialDot<T>(w, b, nb, x), PartialDot<T>(w, b + 1, nb, x + ab), PartialDot<T>(w, b + 2, nb, x + 2 * ab),
            PartialDot<T>(w, b + 3, nb, x + 3 * ab), dw, dwBias, da, daSum, acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> PartialDot<T>(byte* w, int b, int nb, byte* x) where T : struct, IBlock32
    {
        if (b >= nb)
            return Vector256<int>.Zero;
        var q = T.Decode(w + (nint)b * T.BlockBytes);
        return BlockDot<T>(Unsigned<T>(q), q, x);
    }

    private static void Tile<T, TS>(byte* w, float* ws, byte* a, nint aStride, int nb, float* y, nint yStride)
        where T : struct, IBlock32 where TS : struct, ISeqCount
    {
        const int ab = Q8Activation.BlockBytes;
        int wb = T.BlockBytes;
        byte* a1 = a + aStride, a2 = a1 + aStride, a3 = a2 + aStride;
        float* s0 = Q8Activation.Scales(a, nb), s1 = Q8Activation.Scales(a1, nb);
        float* s2 = Q8Activation.Scales(a2, nb), s3 = Q8Activation.Scales(a3, nb);
        float* z0 = Q8Activation.ScaledSums(a, nb), z1 = Q8Activation.ScaledSums(a1, nb);
        float* z2 = Q8Activation.ScaledSums(a2, nb), z3 = Q8Activation.ScaledSums(a3, nb);
        var bias = Vector256.Create(-(float)T.Bias);
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
        int b = 0;
        for (; b + 4 <= nb; b += 4)
        {
            byte* wp = w + (nint)b * wb;
            var q0 = T.Decode(wp);
            var q1 = T.Decode(wp + wb);
            var q2 = T.Decode(wp + 2 * wb);
            var q3 = T.Decode(wp + 3 * wb);
            var u0 = Unsigned<T>(q0);
            var u1 = Unsigned<T>(q1);
            var u2 = Unsigned<T>(q2);
            var u3 = Unsigned<T>(q3);
            var dw = Avx.BroadcastVector128ToVector256(ws + b);
            var dwBias = T.Bias != 0 ? dw * bias : default;
            nint ao = (nint)b * ab + 2;
            c0 = Group<T>(u0, q0, u1, q1, u2, q2, u3, q3, a + ao, dw, dwBias, s0 + b, z0 + b, c0);
            if (TS.N > 1) c1 = Group<T>(u0, q0, u1, q1, u2, q2, u3, q3, a1 + ao, dw, dwBias, s1 + b, z1 + b, c1);
            if (TS.N > 2) c2 = Group<T>(u0, q0, u1, q1, u2, q2, u3, q3, a2 + ao, dw, dwBias, s2 + b, z2 + b, c2);
            if (TS.N > 3) c3 = Group<T>(u0, q0, u1, q1, u2, q2, u3, q3, a3 + ao, dw, dwBias, s3 + b, z3 + b, c3);
        }
        if (b < nb)
        {
            var dw = Avx.BroadcastVector128ToVector256(ws + b);
            var dwBias = T.Bias != 0 ? dw * bias : default;
            nint ao = (nint)b * ab + 2;
            c0 = PartialGroup<T>(w, b, nb, a + ao, dw, dwBias, s0 + b, z0 + b, c0);
            if (TS.N > 1) c1 = PartialGroup<T>(w, b, nb, a1 + ao, dw, dwBias, s1 + b, z1 + b, c1);
            if (TS.N > 2) c2 = PartialGroup<T>(w, b, nb, a2 + ao, dw, dwBias, s2 + b, z2 + b, c2);
            if (TS.N > 3) c3 = PartialGroup<T>(w, b, nb, a3 + ao, dw, dwBias, s3 + b, z3 + b, c3);
        }
        y[0] = LaneFold.Fold(c0);
        if (TS.N > 1) y[yStride] = LaneFold.Fold(c1);
        if (TS.N > 2) y[2 * yStride] = LaneFold.Fold(c2);
        if (TS.N > 3) y[3 * yStride] = LaneFold.Fold(c3);
    }

    public static void ScalarBlock<T>(byte* w, nint rowBytes, int nRows, byte* a, nint aStride, int nSeq, int n, float* y, nint yStride)
        where T : struct, IBlock32
    {
        int nb = n / 32, wb = T.BlockBytes;
        int* q = stackalloc int[32];
        float* lane = stackalloc float[8];
        for (int r = 0; r < nRows; r++)
        {
            byte* wr = w + r * rowBytes;
            for (int s = 0; s < nSeq; s++)
            {
                byte* ar = a + s * aStride;
                for (int j = 0; j < 8; j++)
                    lane[j] = 0;
                for (int b = 0; b < nb; b++)
                {
                    byte* wp = wr + (nint)b * wb;
                    T.DecodeScalar(wp, q);
                    sbyte* qa = (sbyte*)(ar + (nint)b * Q8Activation.BlockBytes + 2);
                    float dw = HalfFloat.ToSingle(wp), d = dw * Q8Activation.Scales(ar, nb)[b];
                    for (int k = 0; k < 2; k++)
                    {
                        int half = 0;
                        for (int e = 16 * k; e < 16 * k + 16; e++)
                            half += (q[e] + T.Bias) * qa[e];
                        int l = 4 * k + (b & 3);
                        lane[l] = MathF.FusedMultiplyAdd(half, d, lane[l]);
                    }
                    if (T.Bias != 0)
                        lane[b & 3] = MathF.FusedMultiplyAdd(dw * -T.Bias, Q8Activation.ScaledSums(ar, nb)[b], lane[b & 3]);
                }
                y[s * yStride + r] = LaneFold.Fold(lane);
            }
        }
    }
}
