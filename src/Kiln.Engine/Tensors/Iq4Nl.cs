using System.Runtime.CompilerServices;

namespace Kiln.Engine.Tensors;

/// <summary>
/// IQ4_NL {half d; u8 qs[16]}: 4-bit indices into a fixed non-linear codebook, nibbles packed like Q4_0.
/// </summary>
internal static unsafe class Iq4Nl
{
    public const int BlockBytes = 18;

    /// <summary>The codebook ggml calls kvalues_iq4nl.</summary>
    public static ReadOnlySpan<sbyte> Values => [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

    public static void Dequant(byte* src, float* dst, int nb)
    {
        var values = Values;
        for (int i = 0; i < nb; i++, src += BlockBytes, dst += 32)
        {
            float d = HalfFloat.ToSingle(src);
            byte* qs = src + 2;
            for (int j = 0; j < 16; j++)
            {
                dst[j] = d * values[qs[j] & 0xF];
                dst[j + 16] = d * values[qs[j] >> 4];
            }
        }
    }

    /// <summary>Index of the codebook value nearest to <paramref name="x"/> (ties go up), as ggml's best_index_int8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int BestIndex(ReadOnlySpan<sbyte> values, float x)
    {
        if (x <= values[0]) return 0;
        if (x >= values[15]) return 15;
        int lo = 0, hi = 15;
        while (hi - lo > 1)
        {
            int mid = (lo + hi) / 2;
            if (x < values[mid]) hi = mid;
            else lo = mid;
        }
        return x - values[hi - 1] < values[hi] - x ? hi - 1 : hi;
    }

    /// <summary>
    /// ggml's quantize_row_iq4_nl_ref: x²-weighted fit of the block scale over 15 candidate inverse scales
    /// around max/-127, then indices re-picked against the final scale.
    /// </summary>
    public static void Quant(float* x, byte* dst, int nb)
    {
        const int ntry = 7;
        var values = Values;
        float v0 = values[0];
        for (int i = 0; i < nb; i++, x += 32, dst += BlockBytes)
        {
            float amax = 0, max = 0;
            for (int j = 0; j < 32; j++)
            {
                float ax = MathF.Abs(x[j]);
                if (ax > amax) { amax = ax; max = x[j]; }
            }
            float d = 0;
            if (amax >= 1e-15f)
            {
                d = -max / v0;
                float id = 1 / d;
                float sumQX = 0, sumQ2 = 0;
                for (int j = 0; j < 32; j++)
                {
                    float q = values[BestIndex(values, id * x[j])];
                    float w = x[j] * x[j];
                    sumQX += w * q * x[j];
                    sumQ2 += w * q * q;
                }
                if (sumQ2 > 0)
                    d = sumQX / sumQ2;
                float best = d * sumQX;
                for (int itry = -ntry; itry <= ntry; itry++)
                {
                    id = (itry + v0) / max;
                    sumQX = sumQ2 = 0;
                    for (int j = 0; j < 32; j++)
                    {
                        float q = values[BestIndex(values, id * x[j])];
                        float w = x[j] * x[j];
                        sumQX += w * q * x[j];
                        sumQ2 += w * q * q;
                    }
                    if (sumQ2 > 0 && sumQX * sumQX > best * sumQ2)
                    {
                        d = sumQX / sumQ2;
                        best = d * sumQX;
                    }
                }
            }
            Unsafe.WriteUnaligned(dst, HalfFloat.FromSingle(d));
            float inv = d != 0 ? 1 / d : 0;
            for (int j = 0; j < 16; j++)
            {
                int l0 = BestIndex(values, inv * x[j]), l1 = BestIndex(values, inv * x[j + 16]);
                dst[2 + j] = (byte)(l0 | (l1 << 4));
            }
        }
    }
}
