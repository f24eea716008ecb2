using Kiln.Engine.Gguf;
using Kiln.Engine.Tensors;

namespace Kiln.Engine.Quantization;

/// <summary>
/// Re-encodes a model's weight matrices to one storage type. Norms, biases and other vectors stay
/// F32; matrices whose rows do not fit the type's blocks fall back as <see cref="QuantTypes.ForRow"/> says.
/// </summary>
public static class Quantizer
{
    public sealed record Result(int Quantized, int KeptAsIs, IReadOnlyDictionary<GgmlType, int> TypeCounts);

    public static Result Run(string input, string output, GgmlType target, Action<string>? log = null)
    {
        if (Path.GetFullPath(input) == Path.GetFullPath(output))
            throw new ArgumentException("output must differ from input");
        using var src = GgufFile.Open(input);
        foreach (var t in src.Tensors)
            if (!GgmlTypeInfo.IsSupported(t.Type))
                throw new NotSupportedException($"tensor '{t.Name}' has type {t.Type}, which Kiln cannot read");

        var w = new GgufWriter(src.Alignment);
        w.CopyMetadata(src, key => key != "general.file_type");
        w.Add("general.file_type", QuantTypes.FileType(target));
        var counts = new Dictionary<GgmlType, int>();
        int quantized = 0, kept = 0;
        foreach (var t in src.Tensors)
        {
            var isMatrix = t.Shape.Length >= 2 && t.Name.EndsWith(".weight", StringComparison.Ordinal);
            var type = isMatrix ? QuantTypes.ForRow(target, t.Shape[0]) : GgmlType.F32;
            if (type == t.Type)
            {
                var tensor = t;
                w.AddTensor(t.Name, t.Type, t.Shape, s => s.Write(src.TensorBytes(tensor)));
                kept++;
            }
            else
            {
                var tensor = t;
                w.AddTensor(t.Name, type, t.Shape, s => Convert(src, tensor, type, s));
                quantized++;
            }
            counts[type] = counts.GetValueOrDefault(type) + 1;
            log?.Invoke($"{t.Name,-32} {t.Type,-7} -> {type}");
        }
        w.Write(output);
        return new Result(quantized, kept, counts);
    }

    private static void Convert(GgufFile src, GgufTensorInfo t, GgmlType to, Stream s)
    {
        var cols = (int)t.Shape[0];
        var inRow = GgmlTypeInfo.RowBytes(t.Type, cols);
        var outRow = new byte[GgmlTypeInfo.RowBytes(to, cols)];
        var floats = new float[cols];
        var data = src.TensorBytes(t);
        for (long r = 0; r < t.Rows; r++)
        {
            Dequantize.Row(t.Type, data.Slice((int)(r * inRow), (int)inRow), floats);
            Tensors.Quantize.Row(to, floats, outRow);
            s.Write(outRow);
        }
    }
}
