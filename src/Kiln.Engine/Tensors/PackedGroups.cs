namespace Kiln.Engine.Tensors;

/// <summary>A packed kernel's register tile: one group of eight interleaved rows against TS activation rows.</summary>
internal unsafe interface IGroupTile
{
    /// <summary>Row i of activation t lands at y[t*yStride + i], for all eight rows of the group.</summary>
    static abstract void Tile<TS>(byte* group, byte* a, nint aStride, int nb, float* y, nint yStride) where TS : struct, ISeqCount;
}

/// <summary>Runs a packed kernel's tiles over every activation row of one group.</summary>
internal static unsafe class PackedGroups
{
    /// <summary>The group (its first <paramref name="rows"/> real) against nSeq activation rows, four at a time.</summary>
    public static void Run<TK>(byte* group, int rows, int nb, byte* a, nint aStride, int nSeq, float* y, nint yStride)
        where TK : struct, IGroupTile
    {
        float* outRows = stackalloc float[8 * 4];
        for (int s = 0; s < nSeq; s += 4)
        {
            int ns = Math.Min(4, nSeq - s);
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
                default: TK.Tile<Seq4>(group, at, aStride, nb, dst, stride); break;
            }
            if (whole) continue;
            for (int t = 0; t < ns; t++)
                for (int r = 0; r < rows; r++)
                    y[(s + t) * yStride + r] = outRows[t * 8 + r];
        }
    }
}
