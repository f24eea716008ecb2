using System.Runtime.InteropServices;

namespace Kiln.Engine.Tensors;

/// <summary>
/// A weight matrix repacked when a model loads into its kernel's group layout: eight rows interleaved per
/// group so every 32-bit lane of a vector is one row, each group one sequential stream. Decoding a token
/// then reads each weight once, in order, with no per-step repacking. Native memory, freed on dispose.
/// </summary>
public sealed unsafe class PackedMatrix : IDisposable
{
    private readonly delegate*<byte*, int, int, byte*, nint, int, float*, nint, void> _group;
    private readonly long _groupBytes;
    private readonly int _blocks;
    private byte* _data;

    /// <param name="pack">Packs up to eight rows (raw, rowBytes, rows, blocks per row, destination), missing ones as zeros.</param>
    /// <param name="group">One group (its first rows real) against every activation row: (group, rows, blocks, a, aStride, nSeq, y, yStride).</param>
    private PackedMatrix(GgmlType type, byte* raw, long rowBytes, int rows, int cols, int groupBlockBytes,
        delegate*<byte*, nint, int, int, byte*, void> pack,
        delegate*<byte*, int, int, byte*, nint, int, float*, nint, void> group)
    {
        var (blockSize, _) = GgmlTypeInfo.Layout(type) ?? throw new NotSupportedException($"tensor type {type} is not supported");
        if (cols <= 0 || cols % blockSize != 0)
            throw new ArgumentException($"row length {cols} is not a whole number of {type} blocks", nameof(cols));
        if (rows <= 0 || rowBytes < GgmlTypeInfo.RowBytes(type, cols))
            throw new ArgumentException($"bad {type} matrix shape");
        Type = type;
        Rows = rows;
        Cols = cols;
        _blocks = cols / blockSize;
        _groupBytes = (long)_blocks * groupBlockBytes;
        _group = group;
        long groups = (rows + 7) / 8;
        ByteLength = groups * _groupBytes;
        _data = (byte*)NativeMemory.AlignedAlloc((nuint)ByteLength, 64);
        // Groups are independent; packing them on every core keeps model load short.
        nint src = (nint)raw, dst = (nint)_data;
        long groupBytes = _groupBytes;
        int blocks = _blocks;
        Parallel.For(0, groups, g => pack((byte*)src + g * 8 * rowBytes, (nint)rowBytes, (int)Math.Min(8, rows - g * 8), blocks, (byte*)dst + g * groupBytes));
    }

    public GgmlType Type { get; }
    public int Rows { get; }
    public int Cols { get; }
    public long ByteLength { get; }

    /// <summary>The packed form of a matrix of <paramref name="type"/>, or null when its kernels read raw rows.</summary>
    public static PackedMatrix? TryCreate(GgmlType type, byte* raw, long rowBytes, int rows, int cols)
        => TryCreate(type, raw, rowBytes, rows, cols, Simd.Level);

    /// <summary>As <see cref="TryCreate(GgmlType, byte*, long, int, int)"/> with the kernels of <paramref name="level"/>, chosen once here.</summary>
    internal static PackedMatrix? TryCreate(GgmlType type, byte* raw, long rowBytes, int rows, int cols, SimdLevel level)
    {
        if (level == SimdLevel.Scalar) return null;
        if (!Simd.IsSupported(level))
            throw new PlatformNotSupportedException($"{level} kernels cannot run here: this CPU supports up to {Simd.Supported}");
        bool vnni = level == SimdLevel.Avx512;
        return type switch
        {
            GgmlType.Q4_0 => new PackedMatrix(type, raw, rowBytes, rows, cols, GemmQ4_0.GroupBlockBytes, &GemmQ4_0.PackGroup,
                vnni ? &ByteKernel<GemmQ4_0, VnniByteDot>.Group : &ByteKernel<GemmQ4_0, Avx2ByteDot>.Group),
            GgmlType.Q8_0 => new PackedMatrix(type, raw, rowBytes, rows, cols, GemmQ8_0.GroupBlockBytes, &GemmQ8_0.PackGroup,
                vnni ? &ByteKernel<GemmQ8_0, VnniByteDot>.Group : &ByteKernel<GemmQ8_0, Avx2ByteDot>.Group),
            GgmlType.Q4_K => new PackedMatrix(type, raw, rowBytes, rows, cols, GemmQ4_K.GroupBlockBytes, &GemmQ4_K.PackGroup, &GemmQ4_K.Group),
            GgmlType.Q6_K => new PackedMatrix(type, raw, rowBytes, rows, cols, GemmQ6_K.GroupBlockBytes, &GemmQ6_K.PackGroup, &GemmQ6_K.Group),
            _ => null,
        };
    }

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
                _group(_data + (r / 8) * _groupBytes, Math.Min(8, rowEnd - r), _blocks, a, actBytes, nSeq, y + r, yStride);
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
}
