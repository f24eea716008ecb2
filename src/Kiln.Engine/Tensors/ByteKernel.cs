namespace Kiln.Engine.Tensors;

/// <summary>A packed 32-element format whose tile is written once over the integer steps of any <see cref="IByteDot"/>.</summary>
internal unsafe interface IPackedFormat
{
    /// <summary>Bytes of one block of a packed group of eight rows.</summary>
    static abstract int GroupBlockBytes { get; }

    /// <summary>Packs up to eight raw rows (missing ones as zeros) into the group layout at <paramref name="dst"/>.</summary>
    static abstract void PackGroup(byte* w, nint rowBytes, int rows, int nb, byte* dst);

    /// <summary>A packed group against TS activation rows; row i of activation t lands at y[t*yStride + i].</summary>
    static abstract void Tile<TS, TD>(byte* group, byte* a, nint aStride, int nb, float* y, nint yStride)
        where TS : struct, ISeqCount where TD : struct, IByteDot;
}

/// <summary>The kernel of packed format <typeparamref name="TF"/> with the integer steps of instruction set <typeparamref name="TD"/>.</summary>
internal unsafe struct ByteKernel<TF, TD> : IGroupTile where TF : struct, IPackedFormat where TD : struct, IByteDot
{
    public static int MaxSeq => TD.MaxSeq;

    public static void Tile<TS>(byte* group, byte* a, nint aStride, int nb, float* y, nint yStride) where TS : struct, ISeqCount
        => TF.Tile<TS, TD>(group, a, aStride, nb, y, yStride);

    /// <summary>The block kernel of <see cref="MatMul.BlockKernel"/> over raw rows, packed a group at a time into scratch.</summary>
    public static void Block(byte* w, nint rowBytes, int nRows, byte* a, nint aStride, int nSeq, int n, float* y, nint yStride)
        => PackedGroups.RunRaw(w, rowBytes, nRows, a, aStride, nSeq, n / 32, y, yStride, TF.GroupBlockBytes, &Pack, &Group);

    /// <summary>One packed group (its first <paramref name="rows"/> real) against every activation row; row i of activation s lands at y[s*yStride + i].</summary>
    public static void Group(byte* group, int rows, int nb, byte* a, nint aStride, int nSeq, float* y, nint yStride)
        => PackedGroups.Run<ByteKernel<TF, TD>>(group, rows, nb, a, aStride, nSeq, y, yStride);

    private static void Pack(byte* w, nint rowBytes, int rows, int nb, byte* dst) => TF.PackGroup(w, rowBytes, rows, nb, dst);
}
