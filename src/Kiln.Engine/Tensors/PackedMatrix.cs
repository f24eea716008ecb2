using System.Runtime.InteropServices;

namespace Kiln.Engine.Tensors;

/// <summary>
/// A weight matrix repacked when a model loads into its kernel's group layout: eight rows interleaved per
/// group so every 32-bit lane of a vector is one row, each group one sequential stream. Decoding a token
/// then reads each weight once, in order, with no per-step repacking. Native memory, freed on dispose.
/// </summary>
public abstract unsafe class PackedMatrix : IDisposable
{
    private byte* _data;

    /// <param name="raw">Row 0 of the matrix in its GGUF block format.</param>
    /// <param name="groupBytes">Packed bytes of one group of eight rows.</param>
    protected PackedMatrix(GgmlType type, byte* raw, long rowBytes, int rows, int cols, long groupBytes)
    {
        if (!MatMul.IsAccelerated)
            throw new PlatformNotSupportedException($"packed {type} matrices need AVX2 and FMA");
        var (blockSize, _) = GgmlTypeInfo.Layout(type) ?? throw new NotSupportedException($"tensor type {type} is not supported");
        if (cols <= 0 || cols % blockSize != 0)
            throw new ArgumentException($"row length {cols} is not a whole number of {type} blocks", nameof(cols));
        if (rows <= 0 || rowBytes < GgmlTypeInfo.RowBytes(type, cols))
            throw new ArgumentException($"bad {type} matrix shape");
        Type = type;
        Rows = rows;
        Cols = cols;
        GroupBytes = groupBytes;
        long groups = (rows + 7) / 8;
        ByteLength = groups * groupBytes;
        _data = (byte*)NativeMemory.AlignedAlloc((nuint)ByteLength, 64);
        // Groups are independent; packing them on every core keeps model load short.
        nint src = (nint)raw, dst = (nint)_data;
        Parallel.For(0, groups, g => PackGroup((byte*)src + g * 8 * rowBytes, (nint)rowBytes, (int)Math.Min(8, rows - g * 8), (byte*)dst + g * groupBytes));
    }

    public GgmlType Type { get; }
    public int Rows { get; }
    public int Cols { get; }
    public long ByteLength { get; }
    protected long GroupBytes { get; }

    /// <summary>Packs up to eight rows (missing ones as zeros) into one group.</summary>
    protected abstract void PackGroup(byte* raw, nint rowBytes, int rows, byte* dst);

    /// <summary>Group <paramref name="group"/> (its first <paramref name="rows"/> real) against every activation row; row i lands at y[s*yStride + i].</summary>
    protected abstract void MultiplyGroup(byte* group, int rows, byte* a, nint aStride, int nSeq, float* y, nint yStride);

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
        int actBytes = MatMul.ActivationRowBytes(Type, Cols);
        if ((long)nSeq * actBytes > activations.Length)
            throw new ArgumentException($"activations hold {activations.Length} bytes, {nSeq} rows need {(long)nSeq * actBytes}", nameof(activations));
        fixed (byte* a = activations)
        {
            for (int r = rowStart; r < rowEnd; r += 8)
                MultiplyGroup(_data + (r / 8) * GroupBytes, Math.Min(8, rowEnd - r), a, actBytes, nSeq, y + r, yStride);
        }
    }

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    ~PackedMatrix() => Free();

    private void Free()
    {
        if (_data == null) return;
        NativeMemory.AlignedFree(_data);
        _data = null;
    }

    /// <summary>The packed form of a matrix of <paramref name="type"/>, or null when its kernels read raw rows.</summary>
    public static PackedMatrix? TryCreate(GgmlType type, byte* raw, long rowBytes, int rows, int cols)
    {
        if (!MatMul.IsAccelerated) return null;
        return type switch
        {
            GgmlType.Q4_0 => new PackedQ4_0(raw, rowBytes, rows, cols),
            GgmlType.Q4_K => new PackedQ4_K(raw, rowBytes, rows, cols),
            GgmlType.Q6_K => new PackedQ6_K(raw, rowBytes, rows, cols),
            _ => null,
        };
    }
}

/// <summary>A Q4_0 matrix in <see cref="GemmQ4_0"/>'s group layout.</summary>
public sealed unsafe class PackedQ4_0(byte* raw, long rowBytes, int rows, int cols)
    : PackedMatrix(GgmlType.Q4_0, raw, rowBytes, rows, cols, (long)cols / 32 * GemmQ4_0.GroupBlockBytes)
{
    protected override void PackGroup(byte* raw, nint rowBytes, int rows, byte* dst)
        => GemmQ4_0.PackGroup(raw, rowBytes, rows, Cols / 32, dst);

    protected override void MultiplyGroup(byte* group, int rows, byte* a, nint aStride, int nSeq, float* y, nint yStride)
        => GemmQ4_0.Group(group, rows, Cols / 32, a, aStride, nSeq, y, yStride);
}

/// <summary>A Q4_K matrix in <see cref="GemmQ4_K"/>'s group layout.</summary>
public sealed unsafe class PackedQ4_K(byte* raw, long rowBytes, int rows, int cols)
    : PackedMatrix(GgmlType.Q4_K, raw, rowBytes, rows, cols, (long)cols / 256 * GemmQ4_K.GroupBlockBytes)
{
    protected override void PackGroup(byte* raw, nint rowBytes, int rows, byte* dst)
        => GemmQ4_K.PackGroup(raw, rowBytes, rows, Cols / 256, dst);

    protected override void MultiplyGroup(byte* group, int rows, byte* a, nint aStride, int nSeq, float* y, nint yStride)
        => GemmQ4_K.Group(group, rows, Cols / 256, a, aStride, nSeq, y, yStride);
}

/// <summary>A Q6_K matrix in <see cref="GemmQ6_K"/>'s group layout.</summary>
public sealed unsafe class PackedQ6_K(byte* raw, long rowBytes, int rows, int cols)
    : PackedMatrix(GgmlType.Q6_K, raw, rowBytes, rows, cols, (long)cols / 256 * GemmQ6_K.GroupBlockBytes)
{
    protected override void PackGroup(byte* raw, nint rowBytes, int rows, byte* dst)
        => GemmQ6_K.PackGroup(raw, rowBytes, rows, Cols / 256, dst);

    protected override void MultiplyGroup(byte* group, int rows, byte* a, nint aStride, int nSeq, float* y, nint yStride)
        => GemmQ6_K.Group(group, rows, Cols / 256, a, aStride, nSeq, y, yStride);
}
