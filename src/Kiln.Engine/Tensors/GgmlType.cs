namespace Kiln.Engine.Tensors;

/// <summary>Tensor element types, numbered as in the GGUF/ggml format.</summary>
public enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ2_XXS = 16,
    IQ2_XS = 17,
    IQ3_XXS = 18,
    IQ1_S = 19,
    IQ4_NL = 20,
    IQ3_S = 21,
    IQ2_S = 22,
    IQ4_XS = 23,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    IQ1_M = 29,
    BF16 = 30,
}

/// <summary>Block geometry of each type: how many elements one block holds and its size in bytes.</summary>
public static class GgmlTypeInfo
{
    /// <summary>Elements per block and bytes per block, or null when Kiln does not support the type.</summary>
    public static (int BlockSize, int BlockBytes)? Layout(GgmlType type) => type switch
    {
        GgmlType.F32 => (1, 4),
        GgmlType.F16 => (1, 2),
        GgmlType.BF16 => (1, 2),
        GgmlType.Q4_0 => (32, 18),
        GgmlType.Q4_1 => (32, 20),
        GgmlType.Q5_0 => (32, 22),
        GgmlType.Q5_1 => (32, 24),
        GgmlType.Q8_0 => (32, 34),
        GgmlType.Q8_1 => (32, 36),
        GgmlType.Q4_K => (256, 144),
        GgmlType.Q5_K => (256, 176),
        GgmlType.Q6_K => (256, 210),
        GgmlType.Q8_K => (256, 292),
        GgmlType.IQ4_NL => (32, 18),
        _ => null,
    };

    public static bool IsSupported(GgmlType type) => Layout(type) is not null;

    /// <summary>Bytes of one row of <paramref name="elements"/> values; the caller has checked divisibility.</summary>
    public static long RowBytes(GgmlType type, long elements)
    {
        var (bs, bb) = Layout(type) ?? throw new NotSupportedException($"tensor type {type} is not supported");
        return elements / bs * bb;
    }
}
