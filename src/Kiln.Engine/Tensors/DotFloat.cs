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
/// Numerics: 32 fused-multiply-add lanes (element i in lane i % 32; a leftover run of 8 into lanes 0..7),
/// lanes folded as ((l + l+8) + (l+16 + l+24)), then (j + j+4), then (0+2)+(1+3); a last partial run of
/// fewer than 8 elements is fused onto that sum in order. The scalar kernel mirrors it bit for bit.
/// </summary>
internal static unsafe class DotFloat
{
    public static void Avx2Kernel<T>(byte* w, byte* a, nint aStride, int nSeq, int n, float* y, nint yStride)
        where T : struct, IFloatWeight
    {
        // The row stays cache-hot across activation rows, so each is a separate pass.
        for (int s = 0; s < nSeq; s++)
            y[s * yStride] = Avx2Dot<T>(w, (float*)(a + s * aStride), n);
    }

    private static float Avx2Dot<T>(byte* w, float* x, int n) where T : struct, IFloatWeight
    {
        var a0 = Vector256<float>.Zero;
        var a1 = Vector256<float>.Zero;
        var a2 = Vector256<float>.Zero;
        var a3 = Vector256<float>.Zero;
        int i = 0;
        for (; i + 32 <= n; i += 32)
        {
            a0 = Fma.MultiplyAdd(T.Load8(w, i), Vector256.Load(x + i), a0);
            a1 = Fma.MultiplyAdd(T.Load8(w, i + 8), Vector256.Load(x + i + 8), a1);
            a2 = Fma.MultiplyAdd(T.Load8(w, i + 16), Vector256.Load(x + i + 16), a2);
            a3 = Fma.MultiplyAdd(T.Load8(w, i + 24), Vector256.Load(x + i + 24), a3);
        }
        for (; i + 8 <= n; i += 8)
            a0 = Fma.MultiplyAdd(T.Load8(w, i), Vector256.Load(x + i), a0);
        var v = (a0 + a1) + (a2 + a3);
        var t = v.GetLower() + v.GetUpper();
        float r = (t.GetElement(0) + t.GetElement(2)) + (t.GetElement(1) + t.GetElement(3));
        for (; i < n; i++)
            r = MathF.FusedMultiplyAdd(T.Load(w, i), x[i], r);
        return r;
    }

    public static void ScalarKernel<T>(byte* w, byte* a, nint aStride, int nSeq, int n, float* y, nint yStride)
        where T : struct, IFloatWeight
    {
        for (int s = 0; s < nSeq; s++)
            y[s * yStride] = ScalarDot<T>(w, (float*)(a + s * aStride), n);
    }

    private static float ScalarDot<T>(byte* w, float* x, int n) where T : struct, IFloatWeight
    {
        float* lane = stackalloc float[32];
        for (int j = 0; j < 32; j++)
            lane[j] = 0;
        int i = 0;
        for (; i + 32 <= n; i += 32)
            for (int j = 0; j < 32; j++)
                lane[j] = MathF.FusedMultiplyAdd(T.Load(w, i + j), x[i + j], lane[j]);
        for (; i + 8 <= n; i += 8)
            for (int j = 0; j < 8; j++)
                lane[j] = MathF.FusedMultiplyAdd(T.Load(w, i + j), x[i + j], lane[j]);
        float* v = stackalloc float[8];
        for (int j = 0; j < 8; j++)
            v[j] = (lane[j] + lane[j + 8]) + (lane[j + 16] + lane[j + 24]);
        float t0 = v[0] + v[4], t1 = v[1] + v[5], t2 = v[2] + v[6], t3 = v[3] + v[7];
        float r = (t0 + t2) + (t1 + t3);
        for (; i < n; i++)
            r = MathF.FusedMultiplyAdd(T.Load(w, i), x[i], r);
        return r;
    }
}
