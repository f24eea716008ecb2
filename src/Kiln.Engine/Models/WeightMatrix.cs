using System.Runtime.InteropServices;
using Kiln.Engine.Gguf;
using Kiln.Engine.Tensors;

namespace Kiln.Engine.Models;

/// <summary>
/// A weight matrix left quantized in the mapped file: <see cref="Rows"/> rows of <see cref="Cols"/>
/// elements, each row <see cref="RowBytes"/> bytes of blocks. Q4_0, Q4_K and Q6_K matrices are also
/// repacked for their matmul kernels (<see cref="Packed"/>), and their mapped pages handed back to the
/// page cache.
/// </summary>
public sealed unsafe class WeightMatrix : IDisposable
{
    public WeightMatrix(GgufFile file, GgufTensorInfo tensor, bool packForMatMul = true)
    {
        ModelValidator.CheckMatrix(file, tensor);
        Name = tensor.Name;
        Type = tensor.Type;
        Cols = checked((int)tensor.Shape[0]);
        Rows = checked((int)tensor.Rows);
        RowBytes = GgmlTypeInfo.RowBytes(Type, Cols);
        Data = file.TensorPointer(tensor);
        if (packForMatMul && PackedMatrix.TryCreate(Type, Data, RowBytes, Rows, Cols) is { } packed)
        {
            Packed = packed;
            // Only a file mapping can give pages back and read them again; an in-memory image would lose them.
            if (file.IsMapped)
                ReleasePages(Data, Rows * RowBytes);
        }
    }

    /// <summary>The matrix in its kernel's packed layout (Q4_0, Q4_K, Q6_K), or null where kernels read raw rows.</summary>
    public PackedMatrix? Packed { get; }

    /// <summary>Frees the packed copy; the mapped rows stay valid while the file is open.</summary>
    public void Dispose() => Packed?.Dispose();

    /// <summary>
    /// Drops the mapped pages of a repacked tensor from this process's resident set; they remain in the
    /// page cache and fault back in if the raw rows are read again (an embedding lookup).
    /// </summary>
    private static void ReleasePages(byte* data, long length)
    {
        if (!OperatingSystem.IsLinux()) return;
        const long page = 4096;
        long start = ((long)data + page - 1) & ~(page - 1), end = ((long)data + length) & ~(page - 1);
        if (end > start)
            _ = madvise((nint)start, (nuint)(end - start), MadviseDontNeed);
    }

    private const int MadviseDontNeed = 4;

    [DllImport("libc", SetLastError = true)]
    private static extern int madvise(nint address, nuint length, int advice);

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
