using Kiln.Engine.Tensors;

namespace Kiln.Engine.Tests.Tensors;

/// <summary>
/// Plain element-by-element readings of the ggml block formats, written from the format description and
/// independent of the engine: integer quants, their scales, and float values.
/// </summary>
internal static class Reference
{
    public static float Half(byte[] b, int off) => (float)BitConverter.ToHalf(b, off);

    public static readonly int[] Iq4Values = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

    public static int BlockSize(GgmlType t) => GgmlTypeInfo.Layout(t)!.Value.BlockSize;

    public static int BlockBytes(GgmlType t) => GgmlTypeInfo.Layout(t)!.Value.BlockBytes;

    /// <summary>Element e (0..31) of a Q4_0/Q4_1/IQ4_NL-style nibble array starting at qs.</summary>
    private static int Nibble(byte[] b, int qs, int e) => e < 16 ? b[qs + e] & 0xF : b[qs + e - 16] >> 4;

    private static int Bit(byte[] b, int off, int bit) => (b[off + bit / 8] >> (bit % 8)) & 1;

    /// <summary>6-bit scale and min of sub-block j from the 12 packed K-quant bytes at off.</summary>
    public static (int Scale, int Min) ScaleMin(byte[] b, int off, int j)
    {
        if (j < 4)
            return (b[off + j] & 63, b[off + j + 4] & 63);
        int sc = (b[off + j + 4] & 0x0F) | ((b[off + j - 4] >> 6) << 4);
        int m = (b[off + j + 4] >> 4) | ((b[off + j] >> 6) << 4);
        return (sc, m);
    }

    /// <summary>
    /// The integer quant of element e within one block, as the dot kernels see it: signed formats give
    /// the signed value, formats with a min give the unsigned one (min applied separately).
    /// </summary>
    public static int Quant(GgmlType t, byte[] b, int e) => t switch
    {
        GgmlType.Q4_0 => Nibble(b, 2, e) - 8,
        GgmlType.Q4_1 => Nibble(b, 4, e),
        GgmlType.Q5_0 => (Nibble(b, 6, e) | (Bit(b, 2, e) << 4)) - 16,
        GgmlType.Q5_1 => Nibble(b, 8, e) | (Bit(b, 4, e) << 4),
        GgmlType.Q8_0 => (sbyte)b[2 + e],
        GgmlType.Q8_1 => (sbyte)b[4 + e],
        GgmlType.IQ4_NL => Iq4Values[Nibble(b, 2, e)],
        // Q4_K: 64-element chunk c uses qs[32c..32c+31]: first 32 elements low nibbles, next 32 high.
        GgmlType.Q4_K => (e % 64 < 32 ? b[16 + 32 * (e / 64) + e % 32] & 0xF : b[16 + 32 * (e / 64) + e % 32] >> 4),
        GgmlType.Q5_K => (e % 64 < 32 ? b[48 + 32 * (e / 64) + e % 32] & 0xF : b[48 + 32 * (e / 64) + e % 32] >> 4)
            | (((b[16 + e % 32] >> (e / 32)) & 1) << 4),
        GgmlType.Q6_K => Q6(b, e) - 32,
        GgmlType.Q8_K => (sbyte)b[4 + e],
        _ => throw new NotSupportedException(t.ToString()),
    };

    private static int Q6(byte[] b, int e)
    {
        int half = e / 128, r = e % 128, l = r % 32, group = r / 32;
        int qlByte = b[64 * half + l + (group % 2 == 1 ? 32 : 0)];
        int low = group < 2 ? qlByte & 0xF : qlByte >> 4;
        int high = (b[128 + 32 * half + l] >> (2 * group)) & 3;
        return low | (high << 4);
    }

    /// <summary>Multiplier of element e's integer quant (for K formats: d times its sub-block scale).</summary>
    public static float Scale(GgmlType t, byte[] b, int e) => t switch
    {
        GgmlType.Q4_K or GgmlType.Q5_K => Half(b, 0) * ScaleMin(b, 4, e / 32).Scale,
        GgmlType.Q6_K => Half(b, 208) * (sbyte)b[192 + e / 16],
        GgmlType.Q8_K => BitConverter.ToSingle(b, 0),
        _ => Half(b, 0),
    };

    /// <summary>What is added after scaling (Q4_1/Q5_1: +m; Q4_K/Q5_K: −dmin·min).</summary>
    public static float Offset(GgmlType t, byte[] b, int e) => t switch
    {
        GgmlType.Q4_1 or GgmlType.Q5_1 => Half(b, 2),
        GgmlType.Q4_K or GgmlType.Q5_K => -(Half(b, 2) * ScaleMin(b, 4, e / 32).Min),
        _ => 0f,
    };

    public static float[] Dequantize(GgmlType t, byte[] data, int n)
    {
        var result = new float[n];
        switch (t)
        {
            case GgmlType.F32:
                for (int i = 0; i < n; i++) result[i] = BitConverter.ToSingle(data, 4 * i);
                return result;
            case GgmlType.F16:
                for (int i = 0; i < n; i++) result[i] = Half(data, 2 * i);
                return result;
            case GgmlType.BF16:
                for (int i = 0; i < n; i++) result[i] = BitConverter.Int32BitsToSingle(BitConverter.ToUInt16(data, 2 * i) << 16);
                return result;
        }
        int bs = BlockSize(t), bb = BlockBytes(t);
        for (int blk = 0; blk < n / bs; blk++)
        {
            var b = data.AsSpan(blk * bb, bb).ToArray();
            for (int e = 0; e < bs; e++)
                result[blk * bs + e] = Scale(t, b, e) * Quant(t, b, e) + Offset(t, b, e);
        }
        return result;
    }

    /// <summary>
    /// Expected dot of a weight row with a quantized activation row in double, plus the sum of the
    /// magnitudes of its terms (for a tolerance). Integer parts use the exact quants.
    /// </summary>
    public static (double Value, double Magnitude) Dot(GgmlType wt, byte[] w, byte[] act, int n)
    {
        double value = 0, mag = 0;
        var at = MatMul.ActivationType(wt);
        if (at == GgmlType.F32)
        {
            var wf = Dequantize(wt, w, n);
            for (int i = 0; i < n; i++)
            {
                double p = (double)wf[i] * BitConverter.ToSingle(act, 4 * i);
                value += p;
                mag += Math.Abs(p);
            }
            return (value, mag);
        }
        int bs = BlockSize(wt), wb = BlockBytes(wt), ab = BlockBytes(at);
        for (int blk = 0; blk < n / bs; blk++)
        {
            var b = w.AsSpan(blk * wb, wb).ToArray();
            if (bs == 32)
            {
                var a = act.AsSpan(blk * ab, ab).ToArray();
                long isum = 0;
                for (int e = 0; e < 32; e++)
                    isum += (long)Quant(wt, b, e) * Quant(at, a, e);
                double term = (double)(Half(b, 0) * Half(a, 0)) * isum;
                value += term;
                mag += Math.Abs(term);
                if (at == GgmlType.Q8_1)
                {
                    double mterm = (double)Half(b, 2) * Half(a, 2);
                    value += mterm;
                    mag += Math.Abs(mterm);
                }
            }
            else
            {
                // Activation Q8_K blocks line up with the 256-element weight super-blocks.
                var a = act.AsSpan(blk * ab, ab).ToArray();
                double da = BitConverter.ToSingle(a, 0);
                for (int e = 0; e < 256; e++)
                {
                    double term = da * Scale(wt, b, e) * Quant(wt, b, e) * Quant(at, a, e);
                    double off = da * Offset(wt, b, e) * Quant(at, a, e);
                    value += term + off;
                    mag += Math.Abs(term) + Math.Abs(off);
                }
            }
        }
        return (value, mag);
    }
}
