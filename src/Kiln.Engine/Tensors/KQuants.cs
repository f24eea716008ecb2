using System.Runtime.CompilerServices;

namespace Kiln.Engine.Tensors;

/// <summary>
/// The 256-element super-block formats and their dequantization, laid out as ggml does:
/// Q4_K {half d, dmin; u8 scales[12]; u8 qs[128]} (144 B), Q5_K {half d, dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]} (176 B),
/// Q6_K {u8 ql[128]; u8 qh[64]; i8 scales[16]; half d} (210 B), Q8_K {float d; i8 qs[256]; i16 bsums[16]} (292 B).
/// Q4_K/Q5_K hold eight 6-bit (scale, min) pairs packed into 12 bytes; each 32-byte run of qs serves two
/// 32-element sub-blocks (low nibbles, then high nibbles).
/// </summary>
internal static unsafe class KQuants
{
    public const int QK = 256;
    public const int Q4KBytes = 144, Q5KBytes = 176, Q6KBytes = 210, Q8KBytes = 292;

    /// <summary>Sub-block <paramref name="j"/>'s 6-bit scale and min from the 12 packed bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ScaleMin(int j, byte* q, out int scale, out int min)
    {
        if (j < 4)
        {
            scale = q[j] & 63;
            min = q[j + 4] & 63;
        }
        else
        {
            scale = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
            min = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
        }
    }

    /// <summary>
    /// All eight scales (bytes 0..7 of <paramref name="dst"/>) and mins (bytes 8..15) from the 12 packed
    /// bytes at once, with 32-bit masks: same values as <see cref="ScaleMin"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ScalesMins(byte* q, uint* dst)
    {
        const uint low6 = 0x3f3f3f3f, low4 = 0x0f0f0f0f, low2 = 0x03030303;
        uint w0 = Unsafe.ReadUnaligned<uint>(q), w1 = Unsafe.ReadUnaligned<uint>(q + 4), w2 = Unsafe.ReadUnaligned<uint>(q + 8);
        dst[0] = w0 & low6;
        dst[1] = (w2 & low4) | (((w0 >> 6) & low2) << 4);
        dst[2] = w1 & low6;
        dst[3] = ((w2 >> 4) & low4) | (((w1 >> 6) & low2) << 4);
    }

    public static void DequantQ4_K(byte* src, float* dst, int nb)
    {
        for (int i = 0; i < nb; i++, src += Q4KBytes)
        {
            float d = HalfFloat.ToSingle(src), dmin = HalfFloat.ToSingle(src + 2);
            byte* scales = src + 4, q = src + 16;
            for (int j = 0; j < 8; j += 2, q += 32)
            {
                ScaleMin(j, scales, out int sc0, out int m0);
                ScaleMin(j + 1, scales, out int sc1, out int m1);
                float d0 = d * sc0, mm0 = dmin * m0, d1 = d * sc1, mm1 = dmin * m1;
                for (int l = 0; l < 32; l++)
                    *dst++ = d0 * (q[l] & 0xF) - mm0;
                for (int l = 0; l < 32; l++)
                    *dst++ = d1 * (q[l] >> 4) - mm1;
            }
        }
    }

    public static void DequantQ5_K(byte* src, float* dst, int nb)
    {
        for (int i = 0; i < nb; i++, src += Q5KBytes)
        {
            float d = HalfFloat.ToSingle(src), dmin = HalfFloat.ToSingle(src + 2);
            byte* scales = src + 4, qh = src + 16, q = src + 48;
            for (int j = 0; j < 8; j += 2, q += 32)
            {
                ScaleMin(j, scales, out int sc0, out int m0);
                ScaleMin(j + 1, scales, out int sc1, out int m1);
                float d0 = d * sc0, mm0 = dmin * m0, d1 = d * sc1, mm1 = dmin * m1;
                for (int l = 0; l < 32; l++)
                    *dst++ = d0 * ((q[l] & 0xF) | (((qh[l] >> j) & 1) << 4)) - mm0;
                for (int l = 0; l < 32; l++)
                    *dst++ = d1 * ((q[l] >> 4) | (((qh[l] >> (j + 1)) & 1) << 4)) - mm1;
            }
        }
    }

    /// <summary>Q6_K element e's 6-bit quant (0..63, offset 32) and its scale index e/16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Q6Quant(byte* block, int e)
    {
        int half = e >> 7, r = e & 127, group = r >> 5, l = r & 31;
        byte* ql = block + 64 * half;
        byte* qh = block + 128 + 32 * half;
        int low = group switch
        {
            0 => ql[l] & 0xF,
            1 => ql[l + 32] & 0xF,
            2 => ql[l] >> 4,
            _ => ql[l + 32] >> 4,
        };
        return low | (((qh[l] >> (2 * group)) & 3) << 4);
    }

    public static void DequantQ6_K(byte* src, float* dst, int nb)
    {
        for (int i = 0; i < nb; i++, src += Q6KBytes, dst += QK)
        {
            float d = HalfFloat.ToSingle(src + 208);
            sbyte* sc = (sbyte*)(src + 192);
            for (int e = 0; e < QK; e++)
                dst[e] = d * sc[e >> 4] * (Q6Quant(src, e) - 32);
        }
    }

    public static void DequantQ8_K(byte* src, float* dst, int nb)
    {
        for (int i = 0; i < nb; i++, src += Q8KBytes, dst += QK)
        {
            float d = Unsafe.ReadUnaligned<float>(src);
            sbyte* qs = (sbyte*)(src + 4);
            for (int j = 0; j < QK; j++)
                dst[j] = d * qs[j];
        }
    }
}
