using System.Runtime.InteropServices;

namespace Kiln.Engine.Tensors;

/// <summary>
/// A Q4_0 matrix held in <see cref="GemmQ4_0"/>'s group layout: eight rows interleaved per group, each
/// group one sequential stream, scales already widened. Built once when a model loads so decoding a token
/// reads each weight once, in order, with no per-step repacking. Native memory, freed on dispose.
/// </summary>
public sealed unsafe class PackedQ4_0 : IDisposable
{
    private byte* _data;

    public PackedQ4_0(byte* raw, long rowBytes, int rows, int cols)
    {
        if (!MatMul.IsAccelerated)
            throw new PlatformNotSupportedException("packed Q4_0 matrices need AVX2 and FMA");
        if (cols <= 0 || cols % 32 != 0)
            throw new ArgumentException($"row length {cols} is not a whole number of Q4_0 blocks", nameof(cols));
        if (rows <= 0 || rowBytes < GgmlTypeInfo.RowBytes(GgmlType.Q4_0, cols))
            throw new ArgumentException("bad Q4_0 matrix shape");
        Rows = rows;
        Cols = cols;
        int nb = cols / 32;
        long groupBytes = (long)nb * GemmQ4_0.GroupBlockBytes;
        long groups = (rows + 7) / 8;
        ByteLength = groups * groupBytes;
        _data = (byte*)NativeMemory.AlignedAlloc((nuint)ByteLength, 64);
        for (long g = 0; g < groups; g++)
            GemmQ4_0.PackGroup(raw + g * 8 * rowBytes, (nint)rowBytes, (int)Math.Min(8, rows - g * 8), nb, _data + g * groupBytes);
    }

    public int Rows { get; }
    public int Cols { get; }
    public long ByteLength { get; }

    /// <summary>
    /// y[s*yStride + r] = dot(row r, activation s) for r in [rowStart, rowEnd), s below nSeq, with the same
    /// bits as <see cref="MatMul.Rows(GgmlType, ReadOnlySpan{byte}, long, int, ReadOnlySpan{byte}, int, Span{float}, int, int, int)"/>
    /// on the raw rows. rowStart must be a multiple of eight.
    /// </summary>
    public void Multiply(ReadOnlySpan<byte> activations, int nSeq, float* y, int yStride, int rowStart, int rowEnd)
    {
        ObjectDisposedException.ThrowIf(_data == null, this);
        if (rowStart % 8 != 0 || rowStart < 0 || rowEnd > Rows)
            throw new ArgumentOutOfRangeException(nameof(rowStart), $"rows [{rowStart}, {rowEnd}) must start on a group of eight within {Rows}");
        if (rowEnd <= rowStart || nSeq <= 0)
            return;
        int actBytes = MatMul.ActivationRowBytes(GgmlType.Q4_0, Cols);
        if ((long)nSeq * actBytes > activations.Length)
            throw new ArgumentException($"activations hold {activations.Length} bytes, {nSeq} rows need {(long)nSeq * actBytes}", nameof(activations));
        fixed (byte* a = activations)
            GemmQ4_0.Avx2Packed(_data, Rows, Cols / 32, rowStart, rowEnd, a, actBytes, nSeq, y, yStride);
    }

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    ~PackedQ4_0() => Free();

    private void Free()
    {
        if (_data == null) return;
        NativeMemory.AlignedFree(_data);
        _data = null;
    }
}
