using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Engine.Tensors;

/// <summary>
/// Quantizes activation rows into the vec_dot formats the integer kernels consume, reproducing what
/// llama.cpp's CPU backend does on x86: Q8_0/Q8_1 take id = 127/amax and round half to even (its AVX
/// quantize_row_q8_0/q8_1, not the roundf reference used for weights); Q8_K is quantize_row_q8_K_ref.
/// </summary>
internal static unsafe class ActivationQuant
{
    /// <summary>
    /// Q8_0 rows in <see cref="Q8Activation"/> layout (blocks plus widened scales) or, with
    /// <paramref name="withSum"/>, plain Q8_1 blocks (36 B) whose s = d*Σq.
    /// </summary>
    public static void Q8(float* x, byte* dst, int nb, bool withSum)
    {
        int blockBytes = withSum ? 36 : Q8Activation.BlockBytes;
        bool simd = Simd.Level > SimdLevel.Scalar;
        for (int i = 0; i < nb; i++, x += 32)
        {
            byte* block = dst + (nint)i * blockBytes;
            sbyte* qs = (sbyte*)(block + blockBytes - 32);
            float amax = simd ? AbsMax(x) : ScalarAbsMax(x);
            float d = amax / 127f;
            float id = amax != 0 ? 127f / amax : 0f;
            ushort dh = HalfFloat.FromSingle(d);
            Unsafe.WriteUnaligned(block, dh);
            int sum = simd ? Round(x, id, qs) : ScalarRound(x, id, qs);
            if (withSum)
            {
                Unsafe.WriteUnaligned(block + 2, HalfFloat.FromSingle(d * sum));
            }
            else
            {
                Q8Activation.SetTail(dst, nb, i, HalfFloat.ToSingle(dh), sum);
            }
        }
    }

    private static float ScalarAbsMax(float* x)
    {
        float amax = 0;
        for (int j = 0; j < 32; j++)
            amax = MathF.Max(amax, MathF.Abs(x[j]));
        return amax;
    }

    private static int ScalarRound(float* x, float id, sbyte* qs)
    {
        int sum = 0;
        for (int j = 0; j < 32; j++)
        {
            int q = (int)MathF.Round(x[j] * id);
            qs[j] = (sbyte)q;
            sum += q;
        }
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float AbsMax(float* x)
    {
        var sign = Vector256.Create(-0f);
        var m = Avx.Max(Avx.Max(Avx.AndNot(sign, Avx.LoadVector256(x)), Avx.AndNot(sign, Avx.LoadVector256(x + 8))),
            Avx.Max(Avx.AndNot(sign, Avx.LoadVector256(x + 16)), Avx.AndNot(sign, Avx.LoadVector256(x + 24))));
        var h = Sse.Max(m.GetLower(), m.GetUpper());
        h = Sse.Max(h, Sse.MoveHighToLow(h, h));
        h = Sse.Max(h, Sse.Shuffle(h, h, 0b01));
        return h.ToScalar();
    }

    /// <summary>Rounds x*id half to even into 32 int8 (as MathF.Round does) and returns their sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Round(float* x, float id, sbyte* qs)
    {
        var vid = Vector256.Create(id);
        var i0 = Avx.ConvertToVector256Int32(Avx.RoundToNearestInteger(Avx.LoadVector256(x) * vid));
        var i1 = Avx.ConvertToVector256Int32(Avx.RoundToNearestInteger(Avx.LoadVector256(x + 8) * vid));
        var i2 = Avx.ConvertToVector256Int32(Avx.RoundToNearestInteger(Avx.LoadVector256(x + 16) * vid));
        var i3 = Avx.ConvertToVector256Int32(Avx.RoundToNearestInteger(Avx.LoadVector256(x + 24) * vid));
        var s = (i0 + i1) + (i2 + i3);
        var h = s.GetLower() + s.GetUpper();
        h += Sse2.Shuffle(h, 0b_01_00_11_10);
        h += Sse2.Shuffle(h, 0b_10_11_00_01);
        // Packing works within 128-bit lanes; the permute restores element order.
        var packed = Avx2.PackSignedSaturate(Avx2.PackSignedSaturate(i0, i1), Avx2.PackSignedSaturate(i2, i3));
        Avx2.PermuteVar8x32(packed.AsInt32(), Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7)).AsSByte().Store(qs);
        return h.ToScalar();
    }

    public static void Q8_K(float* x, byte* dst, int nb) => KQuantize.QuantQ8_K(x, dst, nb);

    /// <summary>Float activations for F16 (or BF16) weights, pre-rounded as ggml converts them before its dot.</summary>
    public static void RoundFloats(GgmlType weightType, float* x, float* dst, int n)
    {
        switch (weightType)
        {
            case GgmlType.F16:
                for (int i = 0; i < n; i++) dst[i] = HalfFloat.RoundToHalf(x[i]);
                break;
            case GgmlType.BF16:
                for (int i = 0; i < n; i++) dst[i] = HalfFloat.RoundToBF16(x[i]);
                break;
            default:
                new ReadOnlySpan<float>(x, n).CopyTo(new Span<float>(dst, n));
                break;
        }
    }
}
