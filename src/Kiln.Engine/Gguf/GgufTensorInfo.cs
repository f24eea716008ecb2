using Kiln.Engine.Tensors;

namespace Kiln.Engine.Gguf;

/// <summary>
/// One tensor's header entry. <see cref="Shape"/> is in ggml order: Shape[0] is the contiguous
/// (row) dimension, so a weight matrix of Shape [cols, rows] has rows of Shape[0] elements.
/// </summary>
public sealed record GgufTensorInfo(string Name, GgmlType Type, long[] Shape, long Offset, long ByteSize)
{
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (var d in Shape) n *= d;
            return n;
        }
    }

    /// <summary>Number of rows (product of every dimension but the first).</summary>
    public long Rows => ElementCount / Shape[0];

    public override string ToString() => $"{Name} {Type} [{string.Join(", ", Shape)}]";
}
