using System.Runtime.CompilerServices;

namespace Kiln.Engine.Tensors;

/// <summary>
/// The 32-element block formats (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1): dequantization and the
/// round-to-nearest reference quantizers, byte-for-byte as ggml lays them out.
/// Q4_0 {half d; u8 qs[16]}, Q4_1 {half d, m; u8 qs[16]}, Q5_0 {half d; u32 qh; u8 qs[16]},
/// Q5_1 {half d, m; u32 qh; u8 qs[16]}, Q8_0 {half d; i8 qs[32]}, Q8_1 {half d, s; i8 qs[32]}.
/// Nibble j of qs holds element j (low) and j+16 (high); qh bit j is element j's fifth bit.
/// </summary>
internal static unsafe class LegacyQuants
{
    public const int QK = 32;

    public static void DequantQ4_0(byte* src, float* dst, int nb)
    {
        for (int i = 0; i < nb; i++, src += 18, dst += QK)
        {
            float d = HalfFloat.ToSingle(src);
            byte* qs = src + 2;
            for (int j = 0; j < 16; j++)
            {
                dst[j] = ((qs[j] & 0xF) - 8) * d;
                dst[j + 16] = ((qs[j] >> 4) - 8) * d;
            }
        }
    }

    public static void DequantQ4_1(byte* src, float* dst, int nb)
    {
        for (int i = 0; i < nb; i++, src += 20, dst += QK)
        {
            float d = HalfFloat.ToSingle(src), m = HalfFloat.ToSingle(src + 2);
            byte* qs = src + 4;
            for (int j = 0; j < 16; j++)
            {
                dst[j] = (qs[j] & 0xF) * d + m;
                dst[j + 16] = (qs[j] >> 4) * d + m;
            }
        }
    }

    public static void DequantQ5_0(byte* src, float* dst, int nb)
    {
        for (int i = 0; i < nb; i++, src += 22, dst += QK)
        {
            float d = HalfFloat.ToSingle(src);
            uint qh = Unsafe.ReadUnaligned<uint>(src + 2);
            byte* qs = src + 6;
            for (int j = 0; j < 16; j++)
            {
                int h0 = (int)((qh >> j) & 1) << 4, h1 = (int)((qh >> (j + 16)) & 1) << 4;
                dst[j] = (((qs[j] & 0xF) | h0) - 16) * d;
                dst[j + 16] = (((qs[j] >> 4) | h1) - 16) * d;
            }
        }
    }

    public static void DequantQ5_1(byte* src, float* dst, int nb)
    {
        for (int i = 0; i < nb; i++, src += 24, dst += QK)
        {
            float d = HalfFloat.ToSingle(src), m = HalfFloat.ToSingle(src + 2);
            uint qh = Unsafe.ReadUnaligned<uint>(src + 4);
            byte* qs = src + 8;
            for (int j = 0; j < 16; j++)
            {
                int h0 = (int)((qh >> j) & 1) << 4, h1 = (int)((qh >> (j + 16)) & 1) << 4;
                dst[j] = ((qs[j] & 0xF) | h0) * d + m;
                dst[j + 16] = ((qs[j] >> 4) | h1) * d + m;
            }
        }
    }

    /// <summary>Q8_0 (blockBytes 34, quants at 2) and Q8_1 (36, quants at 4) share the int8 payload.</summary>
    public static void DequantQ8(byte* src, float* dst, int nb, int blockBytes)
    {
        int qOff = blockBytes - QK;
        for (int i = 0; i < nb; i++, src += blockBytes, dst += QK)
        {
            float d = HalfFloat.ToSingle(src);
            sbyte* qs = (sbyte*)(src + qOff);
            for (int j = 0; j < QK; j++)
                dst[j] = qs[j] * d;
        }
    }

    // The reference quantizers below follow ggml's quantize_row_*_ref: C's float-to-int casts truncate,
    // so "(int)(v + 0.5f)" on non-negative v is their round-half-up.

    public static void QuantQ4_0(float* x, byte* dst, int nb)
    {
        for (int i = 0; i < nb; i++, x += QK, dst += 18)
        {
            float max = LargestMagnitude(x);
            float d = max / -8;
            float id = d != 0 ? 1.0f / d : 0.0f;
            Unsafe.WriteUnaligned(dst, HalfFloat.FromSingle(d));
            for (int j = 0; j < 16; j++)
            {
                int q0 = Math.Min(15, (int)(x[j] * id + 8.5f));
                int q1 = Math.Min(15, (int)(x[j + 16] * id + 8.5f));
                dst[2 + j] = (byte)(q0 | (q1 << 4));
            }
        }
    }

    public static void QuantQ4_1(float* x, byte* dst, int nb)
    {
        for (int i = 0; i < nb; i++, x += QK, dst += 20)
        {
            MinMax(x, out float min, out float max);
            float d = (max - min) / 15;
            float id = d != 0 ? 1.0f / d : 0.0f;
            Unsafe.WriteUnaligned(dst, HalfFloat.FromSingle(d));
            Unsafe.WriteUnaligned(dst + 2, HalfFloat.FromSingle(min));
            for (int j = 0; j < 16; j++)
            {
                int q0 = Math.Min(15, (int)((x[j] - min) * id + 0.5f));
                int q1 = Math.Min(15, (int)((x[j + 16] - min) * id + 0.5f));
                dst[4 + j] = (byte)(q0 | (q1 << 4));
            }
        }
    }

    public static void QuantQ5_0(float* x, byte* dst, int nb)
    {
        for (int i = 0; i < nb; i++, x += QK, dst += 22)
        {
            float max = LargestMagnitude(x);
            float d = max / -16;
            float id = d != 0 ? 1.0f / d : 0.0f;
            Unsafe.WriteUnaligned(dst, HalfFloat.FromSingle(d));
            uint qh = 0;
            for (int j = 0; j < 16; j++)
            {
                int q0 = Math.Min(31, (int)(x[j] * id + 16.5f));
                int q1 = Math.Min(31, (int)(x[j + 16] * id + 16.5f));
                dst[6 + j] = (byte)((q0 & 0xF) | ((q1 & 0xF) << 4));
                qh |= (uint)(q0 >> 4) << j;
                qh |= (uint)(q1 >> 4) << (j + 16);
            }
            Unsafe.WriteUnaligned(dst + 2, qh);
        }
    }

    public static void QuantQ5_1(float* x, byte* dst, int nb)
    {
        for (int i = 0; i < nb; i++, x += QK, dst += 24)
        {
            MinMax(x, out float min, out float max);
            float d = (max - min) / 31;
            float id = d != 0 ? 1.0f / d : 0.0f;
            Unsafe.WriteUnaligned(dst, HalfFloat.FromSingle(d));
            Unsafe.WriteUnaligned(dst + 2, HalfFloat.FromSingle(min));
            uint qh = 0;
            for (int j = 0; j < 16; j++)
            {
                int q0 = Math.Min(31, (int)((x[j] - min) * id + 0.5f));
                int q1 = Math.Min(31, (int)((x[j + 16] - min) * id + 0.5f));
                dst[8 + j] = (byte)((q0 & 0xF) | ((q1 & 0xF) << 4));
                qh |= (uint)(q0 >> 4) << j;
                qh |= (uint)(q1 >> 4) << (j + 16);
            }
            Unsafe.WriteUnaligned(dst + 4, qh);
        }
    }

    /// <summary>Reference Q8_0 (withSum false) or Q8_1 (true): d = amax/127, quants roundf(x/d).</summary>
    public static void QuantQ8(float* x, byte* dst, int nb, bool withSum)
    {
        int blockBytes = withSum ? 36 : 34;
        for (int i = 0; i < nb; i++, x += QK, dst += blockBytes)
        {
            float amax = 0;
            for (int j = 0; j < QK; j++)
                amax = MathF.Max(amax, MathF.Abs(x[j]));
            float d = amax / 127;
            float id = d != 0 ? 1.0f / d : 0.0f;
            Unsafe.WriteUnaligned(dst, HalfFloat.FromSingle(d));
            sbyte* qs = (sbyte*)(dst + blockBytes - QK);
            int sum = 0;
            for (int j = 0; j < QK; j++)
            {
                int q = (int)MathF.Round(x[j] * id, MidpointRounding.AwayFromZero);
                qs[j] = (sbyte)q;
                sum += q;
            }
            if (withSum)
                Unsafe.WriteUnaligned(dst + 2, HalfFloat.FromSingle(sum * d));
        }
    }

    /// <summary>The block's value of largest magnitude, sign kept (the first one on ties, as ggml).</summary>
    private static float LargestMagnitude(float* x)
    {
        float amax = 0, max = 0;
        for (int j = 0; j < QK; j++)
        {
            float a = MathF.Abs(x[j]);
            if (amax < a) { amax = a; max = x[j]; }
        }
        return max;
    }

    private static void MinMax(float* x, out float min, out float max)
    {
        min = float.MaxValue;
        max = -float.MaxValue;
        for (int j = 0; j < QK; j++)
        {
            if (x[j] < min) min = x[j];
            if (x[j] > max) max = x[j];
        }
    }
}
