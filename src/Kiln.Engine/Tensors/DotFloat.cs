using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Engine.Tensors;

/// <summary>How a float-family weight row widens to float.</summary>
internal unsafe interface IFloatWeight
{
    static abstract int ElementBytes { get; }

    /// <summary>Eight consecutive weights from element <paramref name="i"/>. AVX2 only.</summary>
    static abstract Vector256<float> Load8(byte* row, int i);

    static abstract float Load(byte* row, int i);
}

internal unsafe struct F32Weight : IFloatWeight
{
    public static int ElementBytes => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(byte* row, int i) => Vector256.Load((float*)row + i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load(byte* row, int i) => ((float*)row)[i];
}

internal unsafe struct F16Weight : IFloatWeight
{
    public static int ElementBytes => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(byte* row, int i) => HalfFloat.ToSingle(Avx2.ConvertToVector256Int32((ushort*)row + i));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load(byte* row, int i) => HalfFloat.ToSingle(((ushort*)row)[i]);
}

internal unsafe struct BF16Weight : IFloatWeight
{
    public static int ElementBytes => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(byte* row, int i) => (Avx2.ConvertToVector256Int32((ushort*)row + i) << 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load(byte* row, int i) => HalfFloat.BF16ToSingle(((ushort*)row)[i]);
}

/// <summary>
/// Float dots of F32/F16/BF16 weights with float activations (already rounded to the weight's precision
/// by <see cref="ActivationQuant.RoundFloats"/>, as ggml converts them before its vec_dot).
/// Numerics: each (weight row, activation row) pair has one 8-lane fused-multiply-add accumulator (element
/// i in lane i % 8), folded as t_j = l_j + l_j+4, then (t0 + t2) + (t1 + t3); a last partial run of fewer
/// than 8 elements is fused onto that sum in order. One accumulator per pair lets a register tile hold
/// several weight rows × several activation rows, and keeps each dot's bits independent of the tile it
/// fell in. The scalar kernel mirrors it bit for bit.
/// </summary>
internal static unsafe partial class DotFloat
{
    /// <summary>
    /// Block kernel (see <see cref="MatMul.BlockKernel"/>). Activation rows go in groups of up to four, one
    /// register tile height, so with four or fewer the weights stream once; beyond that each group walks the
    /// caller's L2-sized tile of weight rows while the group's activation rows stay in L1.
    /// </summary>
    public static void Avx2Block<T>(byte* w, nint rowBytes, int nRows, byte* a, nint aStride, int nSeq, int n, float* y, nint yStride)
        where T : struct, IFloatWeight
    {
        int s = 0;
        for (; nSeq - s > 4; s += 3)
            Rows3<T>(w, rowBytes, nRows, a + s * aStride, aStride, n, y + s * yStride, yStride);
        a += s * aStride;
        y += s * yStride;
        switch (nSeq - s)
        {
            case 1: Rows1<T>(w, rowBytes, nRows, a, aStride, n, y, yStride); break;
            case 2: Rows2<T>(w, rowBytes, nRows, a, aStride, n, y, yStride); break;
            case 3: Rows3<T>(w, rowBytes, nRows, a, aStride, n, y, yStride); break;
            case 4: Rows4<T>(w, rowBytes, nRows, a, aStride, n, y, yStride); break;
        }
    }

    /// <summary>Folds one pair's accumulator and fuses on the elements past the last full run of 8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Finish<T>(Vector256<float> c, byte* w, float* x, int i, int n) where T : struct, IFloatWeight
    {
        float r = LaneFold.Fold(c);
        for (; i < n; i++)
            r = MathF.FusedMultiplyAdd(T.Load(w, i), x[i], r);
        return r;
    }

    public static void ScalarBlock<T>(byte* w, nint rowBytes, int nRows, byte* a, nint aStride, int nSeq, int n, float* y, nint yStride)
        where T : struct, IFloatWeight
    {
        for (int s = 0; s < nSeq; s++)
            for (int r = 0; r < nRows; r++)
                y[s * yStride + r] = ScalarDot<T>(w + r * rowBytes, (float*)(a + s * aStride), n);
    }

    private static float ScalarDot<T>(byte* w, float* x, int n) where T : struct, IFloatWeight
    {
        float* lane = stackalloc float[8];
        for (int j = 0; j < 8; j++)
            lane[j] = 0;
        int i = 0;
        for (; i + 8 <= n; i += 8)
            for (int j = 0; j < 8; j++)
                lane[j] = MathF.FusedMultiplyAdd(T.Load(w, i + j), x[i + j], lane[j]);
        float r = LaneFold.Fold(lane);
        for (; i < n; i++)
            r = MathF.FusedMultiplyAdd(T.Load(w, i), x[i], r);
        return r;
    }
}
