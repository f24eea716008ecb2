using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Engine.Tensors;

/// <summary>A packed kernel's register tile: one group of eight interleaved rows against TS activation rows.</summary>
internal unsafe interface IGroupTile
{
    /// <summary>The most activation rows one tile takes (at most eight): as many as the registers hold accumulators for.</summary>
    static virtual int MaxSeq => 4;

    /// <summary>Row i of activation t lands at y[t*yStride + i], for all eight rows of the group.</summary>
    static abstract void Tile<TS>(byte* group, byte* a, nint aStride, int nb, float* y, nint yStride) where TS : struct, ISeqCount;
}

/// <summary>A packed K-quant kernel: one super-block of a group against one Q8_K activation block, added into eight row lanes.</summary>
internal unsafe interface ISuperBlockKernel
{
    static abstract int GroupBlockBytes { get; }

    static abstract Vector256<float> Accumulate(byte* block, byte* activation, Vector256<float> acc);
}

/// <summary>Runs a packed kernel's tiles over every activation row of one group.</summary>
internal static unsafe class PackedGroups
{
    [ThreadStatic] private static byte[]? t_packed;

    /// <summary>
    /// Raw rows through a packed kernel, for matrices not kept packed: each group of eight rows is packed
    /// into thread scratch, then run against every activation row.
    /// </summary>
    public static void RunRaw(byte* w, nint rowBytes, int nRows, byte* a, nint aStride, int nSeq, int nb, float* y, nint yStride,
        int groupBlockBytes, delegate*<byte*, nint, int, int, byte*, void> pack, delegate*<byte*, int, int, byte*, nint, int, float*, nint, void> group)
    {
        var scratch = t_packed;
        int need = nb * groupBlockBytes + 32;
        if (scratch is null || scratch.Length < need)
            t_packed = scratch = GC.AllocateUninitializedArray<byte>(need, pinned: true);
        fixed (byte* packedBytes = scratch)
        {
            // 32-byte aligned for the aligned loads of the tiles.
            byte* packed = (byte*)(((nint)packedBytes + 31) & ~(nint)31);
            for (int r = 0; r < nRows; r += 8)
            {
                int rows = Math.Min(8, nRows - r);
                pack(w + r * rowBytes, rowBytes, rows, nb, packed);
                group(packed, rows, nb, a, aStride, nSeq, y + r, yStride);
            }
        }
    }

    /// <summary>Eight rows' half scales, <paramref name="offset"/> bytes into each row (zeros past the last row), stored widened at <paramref name="dst"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreScales(byte* w, nint rowBytes, int rows, nint offset, float* dst)
        => HalfFloat.ToSingle(Vector256.Create(Half(w, rowBytes, 0, rows, offset), Half(w, rowBytes, 1, rows, offset),
            Half(w, rowBytes, 2, rows, offset), Half(w, rowBytes, 3, rows, offset), Half(w, rowBytes, 4, rows, offset),
            Half(w, rowBytes, 5, rows, offset), Half(w, rowBytes, 6, rows, offset), Half(w, rowBytes, 7, rows, offset))).Store(dst);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Half(byte* w, nint rowBytes, int i, int rows, nint offset)
        => i < rows ? Unsafe.ReadUnaligned<ushort>(w + i * rowBytes + offset) : 0;

    /// <summary>The group (its first <paramref name="rows"/> real) against nSeq activation rows, up to the tile's <see cref="IGroupTile.MaxSeq"/> at a time.</summary>
    public static void Run<TK>(byte* group, int rows, int nb, byte* a, nint aStride, int nSeq, float* y, nint yStride)
        where TK : struct, IGroupTile
    {
        float* outRows = stackalloc float[8 * 8];
        for (int s = 0; s < nSeq; s += TK.MaxSeq)
        {
            int ns = Math.Min(TK.MaxSeq, nSeq - s);
            byte* at = a + s * aStride;
            bool whole = rows == 8;
            // A short last group computes into a buffer and keeps only its real rows.
            float* dst = whole ? y + s * yStride : outRows;
            nint stride = whole ? yStride : 8;
            switch (ns)
            {
                case 1: TK.Tile<Seq1>(group, at, aStride, nb, dst, stride); break;
                case 2: TK.Tile<Seq2>(group, at, aStride, nb, dst, stride); break;
                case 3: TK.Tile<Seq3>(group, at, aStride, nb, dst, stride); break;
                case 4: TK.Tile<Seq4>(group, at, aStride, nb, dst, stride); break;
                case 5: TK.Tile<Seq5>(group, at, aStride, nb, dst, stride); break;
                case 6: TK.Tile<Seq6>(group, at, aStride, nb, dst, stride); break;
                case 7: TK.Tile<Seq7>(group, at, aStride, nb, dst, stride); break;
                default: TK.Tile<Seq8>(group, at, aStride, nb, dst, stride); break;
            }
            if (whole) continue;
            for (int t = 0; t < ns; t++)
                for (int r = 0; r < rows; r++)
                    y[(s + t) * yStride + r] = outRows[t * 8 + r];
        }
    }

    /// <summary>Activation dword <paramref name="k"/> of row <paramref name="t"/>'s block at <paramref name="x"/>, in every lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<sbyte> Broadcast(byte* x, nint aStride, int t, int k)
        => Vector256.Create(Unsafe.ReadUnaligned<int>(x + t * aStride + 4 * k)).AsSByte();

    /// <summary>Stores a tile's TS accumulators, row t's eight lanes at y + t*yStride.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<TS>(float* y, nint yStride, Vector256<float> c0, Vector256<float> c1, Vector256<float> c2, Vector256<float> c3,
        Vector256<float> c4, Vector256<float> c5, Vector256<float> c6, Vector256<float> c7) where TS : struct, ISeqCount
    {
        c0.Store(y);
        if (TS.N > 1) c1.Store(y + yStride);
        if (TS.N > 2) c2.Store(y + 2 * yStride);
        if (TS.N > 3) c3.Store(y + 3 * yStride);
        if (TS.N > 4) c4.Store(y + 4 * yStride);
        if (TS.N > 5) c5.Store(y + 5 * yStride);
        if (TS.N > 6) c6.Store(y + 6 * yStride);
        if (TS.N > 7) c7.Store(y + 7 * yStride);
    }

    /// <summary>
    /// The tile of a K-quant kernel whose super-blocks need nothing shared across activation rows: each
    /// of TS activation rows accumulates every super-block of the group into its own eight row lanes.
    /// </summary>
    public static void SuperBlockTile<TK, TS>(byte* group, byte* a, nint aStride, int nb, float* y, nint yStride)
        where TK : struct, ISuperBlockKernel where TS : struct, ISeqCount
    {
        var c0 = Vector256<float>.Zero;
        var c1 = Vector256<float>.Zero;
        var c2 = Vector256<float>.Zero;
        var c3 = Vector256<float>.Zero;
        for (int i = 0; i < nb; i++)
        {
            byte* p = group + (nint)i * TK.GroupBlockBytes;
            byte* ah = a + (nint)i * KQuants.Q8KBytes;
            c0 = TK.Accumulate(p, ah, c0);
            if (TS.N > 1) c1 = TK.Accumulate(p, ah + aStride, c1);
            if (TS.N > 2) c2 = TK.Accumulate(p, ah + 2 * aStride, c2);
            if (TS.N > 3) c3 = TK.Accumulate(p, ah + 3 * aStride, c3);
        }
        Store<TS>(y, yStride, c0, c1, c2, c3, default, default, default, default);
    }
}
