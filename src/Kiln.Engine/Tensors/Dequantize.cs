namespace Kiln.Engine.Tensors;

/// <summary>Block bytes to floats for every supported type.</summary>
public static class Dequantize
{
    /// <summary>Decodes <c>dst.Length</c> elements (a multiple of the block size) from <paramref name="src"/>.</summary>
    public static unsafe void Row(GgmlType type, ReadOnlySpan<byte> src, Span<float> dst)
    {
        var (bs, bb) = GgmlTypeInfo.Layout(type) ?? throw new NotSupportedException($"tensor type {type} is not supported");
        if (dst.Length % bs != 0)
            throw new ArgumentException($"{dst.Length} elements is not a whole number of {type} blocks", nameof(dst));
        int nb = dst.Length / bs;
        if (src.Length < (long)nb * bb)
            throw new ArgumentException($"{type} source holds {src.Length} bytes, {(long)nb * bb} needed", nameof(src));
        fixed (byte* s = src)
        fixed (float* d = dst)
        {
            switch (type)
            {
                case GgmlType.F32:
                    new ReadOnlySpan<float>(s, nb).CopyTo(dst);
                    break;
                case GgmlType.F16:
                    for (int i = 0; i < nb; i++)
                        d[i] = HalfFloat.ToSingle(s + 2 * i);
                    break;
                case GgmlType.BF16:
                    for (int i = 0; i < nb; i++)
                        d[i] = HalfFloat.BF16ToSingle(((ushort*)s)[i]);
                    break;
                case GgmlType.Q4_0: LegacyQuants.DequantQ4_0(s, d, nb); break;
                case GgmlType.Q4_1: LegacyQuants.DequantQ4_1(s, d, nb); break;
                case GgmlType.Q5_0: LegacyQuants.DequantQ5_0(s, d, nb); break;
                case GgmlType.Q5_1: LegacyQuants.DequantQ5_1(s, d, nb); break;
                case GgmlType.Q8_0: LegacyQuants.DequantQ8(s, d, nb, 34); break;
                case GgmlType.Q8_1: LegacyQuants.DequantQ8(s, d, nb, 36); break;
                case GgmlType.Q4_K: KQuants.DequantQ4_K(s, d, nb); break;
                case GgmlType.Q5_K: KQuants.DequantQ5_K(s, d, nb); break;
                case GgmlType.Q6_K: KQuants.DequantQ6_K(s, d, nb); break;
                case GgmlType.Q8_K: KQuants.DequantQ8_K(s, d, nb); break;
                case GgmlType.IQ4_NL: Iq4Nl.Dequant(s, d, nb); break;
                default: throw new NotSupportedException($"tensor type {type} is not supported");
            }
        }
    }
}
