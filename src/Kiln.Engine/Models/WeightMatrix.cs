using Kiln.Engine.Gguf;
using Kiln.Engine.Tensors;

namespace Kiln.Engine.Models;

/// <summary>
/// A weight matrix left quantized in the mapped file: <see cref="Rows"/> rows of <see cref="Cols"/>
/// elements, each row <see cref="RowBytes"/> bytes of blocks.
/// </summary>
public sealed unsafe class WeightMatrix
{
    public WeightMatrix(GgufFile file, GgufTensorInfo tensor)
    {
        if (!GgmlTypeInfo.IsSupported(tensor.Type) || tensor.Type is GgmlType.Q8_1 or GgmlType.Q8_K)
            throw new NotSupportedException($"tensor '{tensor.Name}' has type {tensor.Type}, which Kiln cannot compute with");
        if (tensor.Shape.Length > 2 && tensor.Shape[2..].Any(d => d != 1))
            throw new InvalidDataException($"tensor '{tensor.Name}' should be a matrix but has shape [{string.Join(", ", tensor.Shape)}]");
        Name = tensor.Name;
        Type = tensor.Type;
        Cols = checked((int)tensor.Shape[0]);
        Rows = checked((int)tensor.Rows);
        RowBytes = GgmlTypeInfo.RowBytes(Type, Cols);
        Data = file.TensorPointer(tensor);
        if ((long)Rows * RowBytes > int.MaxValue)
            throw new NotSupportedException($"tensor '{tensor.Name}' is larger than 2 GiB");
    }

    public string Name { get; }
    public GgmlType Type { get; }
    public int Cols { get; }
    public int Rows { get; }
    public long RowBytes { get; }
    public byte* Data { get; }

    public ReadOnlySpan<byte> Bytes => new(Data, (int)(Rows * RowBytes));

    public ReadOnlySpan<byte> Row(int r) => new(Data + r * RowBytes, (int)RowBytes);

    /// <summary>Dequantizes row <paramref name="r"/> (an embedding lookup).</summary>
    public void ReadRow(int r, Span<float> dst) => Dequantize.Row(Type, Row(r), dst[..Cols]);

    public void ExpectShape(int cols, int rows)
    {
        if (Cols != cols || Rows != rows)
            throw new InvalidDataException($"tensor '{Name}' has shape [{Cols}, {Rows}], expected [{cols}, {rows}]");
    }
}
