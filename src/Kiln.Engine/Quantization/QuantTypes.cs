using Kiln.Engine.Tensors;

namespace Kiln.Engine.Quantization;

/// <summary>Names of storage types for the command line, and GGUF's general.file_type numbering.</summary>
public static class QuantTypes
{
    private static readonly Dictionary<string, GgmlType> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["f32"] = GgmlType.F32,
        ["f16"] = GgmlType.F16,
        ["bf16"] = GgmlType.BF16,
        ["q8_0"] = GgmlType.Q8_0,
        ["q4_0"] = GgmlType.Q4_0,
        ["q4_1"] = GgmlType.Q4_1,
        ["q5_0"] = GgmlType.Q5_0,
        ["q5_1"] = GgmlType.Q5_1,
        ["q4_k"] = GgmlType.Q4_K,
        ["q5_k"] = GgmlType.Q5_K,
        ["q6_k"] = GgmlType.Q6_K,
        ["iq4_nl"] = GgmlType.IQ4_NL,
    };

    public static IEnumerable<string> Names => ByName.Keys;

    /// <summary>Parses a type name such as "q4_k"; null if it is not a weight storage type.</summary>
    public static GgmlType? Parse(string name) => ByName.TryGetValue(name, out var t) ? t : null;

    /// <summary>The llama.cpp <c>general.file_type</c> value describing a model mostly of this type.</summary>
    public static uint FileType(GgmlType t) => t switch
    {
        GgmlType.F32 => 0,
        GgmlType.F16 => 1,
        GgmlType.Q4_0 => 2,
        GgmlType.Q4_1 => 3,
        GgmlType.Q8_0 => 7,
        GgmlType.Q5_0 => 8,
        GgmlType.Q5_1 => 9,
        GgmlType.Q4_K => 14,
        GgmlType.Q5_K => 16,
        GgmlType.Q6_K => 18,
        GgmlType.IQ4_NL => 25,
        GgmlType.BF16 => 32,
        _ => throw new ArgumentException($"{t} is not a model storage type"),
    };

    /// <summary>
    /// The type a matrix with rows of <paramref name="cols"/> elements actually gets: K-quants need
    /// rows in multiples of 256 and fall back to a 32-block type as llama.cpp does; rows that fit no
    /// block stay F32.
    /// </summary>
    public static GgmlType ForRow(GgmlType wanted, long cols)
    {
        var (bs, _) = GgmlTypeInfo.Layout(wanted)!.Value;
        if (cols % bs == 0) return wanted;
        var fallback = wanted switch
        {
            GgmlType.Q4_K => GgmlType.Q5_0,
            GgmlType.Q5_K => GgmlType.Q5_1,
            GgmlType.Q6_K => GgmlType.Q8_0,
            _ => GgmlType.F32,
        };
        return cols % GgmlTypeInfo.Layout(fallback)!.Value.BlockSize == 0 ? fallback : GgmlType.F32;
    }
}
