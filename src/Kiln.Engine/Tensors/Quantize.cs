namespace Kiln.Engine.Tensors;

/// <summary>Floats to block bytes with ggml's reference (round-to-nearest) quantizers.</summary>
public static class Quantize
{
    /// <summary>Encodes <c>src.Length</c> values (a multiple of the block size) into <paramref name="dst"/>.</summary>
    public static unsafe void Row(GgmlType type, ReadOnlySpan<float> src, Span<byte> dst)
    {
        var (bs, bb) = GgmlTypeInfo.Layout(type) ?? throw new NotSupportedException($"tensor type {type} is not supported");
        if (src.Length % bs != 0)
            throw new ArgumentException($"{src.Length} elements is not a whole number of {type} blocks", nameof(src));
        int nb = src.Length / bs;
        if (dst.Length < (long)nb * bb)
            throw new ArgumentException($"{type} destination holds {dst.Length} bytes, {(long)nb * bb} needed", nameof(dst));
        fixed (float* s = src)
        fixed (byte* d = dst)
        {
            switch (type)
            {
                case GgmlType.F32:
                    src.CopyTo(new Span<float>(d, nb));
                    break;
                case GgmlType.F16:
                    for (int i = 0; i < nb; i++)
                        ((ushort*)d)[i] = HalfFloat.FromSingle(s[i]);
                    break;
                case GgmlType.BF16:
                    for (int i = 0; i < nb; i++)
                        ((ushort*)d)[i] = HalfFloat.SingleToBF16(s[i]);
                    break;
                case GgmlType.Q4_0: LegacyQuants.QuantQ4_0(s, d, nb); break;
                case GgmlType.Q4_1: LegacyQuants.QuantQ4_1(s, d, nb); break;
                case GgmlType.Q5_0: LegacyQuants.QuantQ5_0(s, d, nb); break;
                case GgmlType.Q5_1: LegacyQuants.QuantQ5_1(s, d, nb); break;
                case GgmlType.Q8_0: LegacyQuants.QuantQ8(s, d, nb, withSum: false); break;
                case GgmlType.Q8_1: LegacyQuants.QuantQ8(s, d, nb, withSum: true); break;
                case GgmlType.Q4_K: KQuantize.QuantQ4_K(s, d, nb); break;
                case GgmlType.Q5_K: KQuantize.QuantQ5_K(s, d, nb); break;
                case GgmlType.Q6_K: KQuantize.QuantQ6_K(s, d, nb); break;
                case GgmlType.Q8_K: KQuantize.QuantQ8_K(s, d, nb); break;
                case GgmlType.IQ4_NL: Iq4Nl.Quant(s, d, nb); break;
                default: throw new NotSupportedException($"tensor type {type} is not supported");
            }
        }
    }
}
