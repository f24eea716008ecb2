using System.Runtime.CompilerServices;

namespace Kiln.Engine.Tensors;

/// <summary>
/// Quantizes activation rows into the vec_dot formats the integer kernels consume, reproducing what
/// llama.cpp's CPU backend does on x86: Q8_0/Q8_1 take id = 127/amax and round half to even (its AVX
/// quantize_row_q8_0/q8_1, not the roundf reference used for weights); Q8_K is quantize_row_q8_K_ref.
/// </summary>
internal static unsafe class ActivationQuant
{
    /// <summary>Q8_0 blocks (34 B) or, with <paramref name="withSum"/>, Q8_1 blocks (36 B) whose s = d*Σq.</summary>
    public static void Q8(float* x, byte* dst, int nb, bool withSum)
    {
        int blockBytes = withSum ? 36 : 34;
        for (int i = 0; i < nb; i++, x += 32, dst += blockBytes)
        {
            float amax = 0;
            for (int j = 0; j < 32; j++)
                amax = MathF.Max(amax, MathF.Abs(x[j]));
            float d = amax / 127f;
            float id = amax != 0 ? 127f / amax : 0f;
            Unsafe.WriteUnaligned(dst, HalfFloat.FromSingle(d));
            sbyte* qs = (sbyte*)(dst + blockBytes - 32);
            int sum = 0;
            for (int j = 0; j < 32; j++)
            {
                int q = (int)MathF.Round(x[j] * id);
                qs[j] = (sbyte)q;
                sum += q;
            }
            if (withSum)
                Unsafe.WriteUnaligned(dst + 2, HalfFloat.FromSingle(d * sum));
        }
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
