using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Engine.Tensors;

/// <summary>
/// Packed Q4_K against Q8_K activations, eight weight rows per group with one row per 32-bit lane (see
/// <see cref="GemmQ4_0"/> for the interleaving). Per super-block of a group: each of the eight 32-element
/// sub-blocks is four interleaved nibble vectors (<see cref="GroupQuantBytes"/> in all), then the sub-block
/// scales as 16-bit pairs per row (one multiply-add both widens a row's pair sums and scales them), the
/// mins as 16-bit pairs of consecutive sub-blocks, and the rows' d and dmin as floats.
/// Quants are at most 15 and activations at least -128, so a sub-block's eight pair-sum steps stay below
/// 2^15 in 16 bits. Numerics match <see cref="DotK"/>'s Q4_K kernels exactly: per super-block the exact
/// integers Σ sc·(q·a) and Σ m·bsum, then acc += (da·d)·isum - (da·dmin)·msum.
/// </summary>
internal static unsafe class GemmQ4_K
{
    private const int QK = KQuants.QK;
    private const int GroupQuantBytes = 8 * 128;
    private const int ScaleOffset = GroupQuantBytes, MinOffset = ScaleOffset + 8 * 32, DOffset = MinOffset + 4 * 32, DMinOffset = DOffset + 32;

    /// <summary>Bytes of one super-block of a group of eight rows.</summary>
    public const int GroupBlockBytes = DMinOffset + 32;

    /// <summary>Packs up to eight rows (missing ones as zeros) of <paramref name="nb"/> super-blocks.</summary>
    public static void PackGroup(byte* w, nint rowBytes, int rows, int nb, byte* dst)
    {
        var nibble = Vector256.Create((byte)0x0F);
        uint* sm = stackalloc uint[4 * 8];
        for (int i = 0; i < nb; i++, dst += GroupBlockBytes)
        {
            for (int r = 0; r < 8; r++)
            {
                byte* xb = w + r * rowBytes + (nint)i * KQuants.Q4KBytes;
                if (r < rows)
                {
                    KQuants.ScalesMins(xb + 4, sm + 4 * r);
                    ((float*)(dst + DOffset))[r] = HalfFloat.ToSingle(xb);
                    ((float*)(dst + DMinOffset))[r] = HalfFloat.ToSingle(xb + 2);
                }
                else
                {
                    sm[4 * r] = sm[4 * r + 1] = sm[4 * r + 2] = sm[4 * r + 3] = 0;
                    ((float*)(dst + DOffset))[r] = 0;
                    ((float*)(dst + DMinOffset))[r] = 0;
                }
            }
            for (int j = 0; j < 8; j++)
            {
                short* sc = (short*)(dst + ScaleOffset + 32 * j);
                for (int r = 0; r < 8; r++)
                    sc[2 * r] = sc[2 * r + 1] = ((byte*)(sm + 4 * r))[j];
            }
            for (int c = 0; c < 4; c++)
            {
                short* m = (short*)(dst + MinOffset + 32 * c);
                for (int r = 0; r < 8; r++)
                {
                    m[2 * r] = ((byte*)(sm + 4 * r))[8 + 2 * c];
                    m[2 * r + 1] = ((byte*)(sm + 4 * r))[8 + 2 * c + 1];
                }
            }
            for (int j = 0; j < 8; j++)
            {
                StoreSubBlock(w, rowBytes, rows, i, j, dst + 128 * j, nibble);
            }
        }
    }

    /// <summary>Sub-block <paramref name="j"/> of super-block <paramref name="i"/> of the eight rows, interleaved.</summary>
    private static void StoreSubBlock(byte* w, nint rowBytes, int rows, int i, int j, byte* dst, Vector256<byte> nibble)
    {
        GemmQ4_0.StoreInterleaved(
            Quants(w, rowBytes, 0, rows, i, j, nibble), Quants(w, rowBytes, 1, rows, i, j, nibble),
            Quants(w, rowBytes, 2, rows, i, j, nibble), Quants(w, rowBytes, 3, rows, i, j, nibble),
            Quants(w, rowBytes, 4, rows, i, j, nibble), Quants(w, rowBytes, 5, rows, i, j, nibble),
            Quants(w, rowBytes, 6, rows, i, j, nibble), Quants(w, rowBytes, 7, rows, i, j, nibble), dst, nibble);
    }

    /// <summary>Row <paramref name="r"/>'s 32 quants of sub-block <paramref name="j"/>: chunk j/2's low or high nibbles.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Quants(byte* w, nint rowBytes, int r, int rows, int i, int j, Vector256<byte> nibble)
    {
        if (r >= rows) return Vector256<int>.Zero;
        var raw = Vector256.Load(w + r * rowBytes + (nint)i * KQuants.Q4KBytes + 16 + 32 * (j >> 1));
        return ((j & 1) == 0 ? raw & nibble : Avx2.ShiftRightLogical(raw.AsUInt16(), 4).AsByte() & nibble).AsInt32();
    }

    /// <summary>One packed group (its first <paramref name="rows"/> real) against every activation row; row i of activation s lands at y[s*yStride + i].</summary>
    internal static void Group(byte* group, int rows, int nb, byte* a, nint aStride, int nSeq, float* y, nint yStride)
        => PackedGroups.Run<Tiles>(group, rows, nb, a, aStride, nSeq, y, yStride);

    private struct Tiles : IGroupTile, ISuperBlockKernel
    {
        public static int GroupBlockBytes => GemmQ4_K.GroupBlockBytes;

        public static void Tile<TS>(byte* group, byte* a, nint aStride, int nb, float* y, nint yStride) where TS : struct, ISeqCount
            => PackedGroups.SuperBlockTile<Tiles, TS>(group, a, aStride, nb, y, yStride);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Accumulate(byte* block, byte* activation, Vector256<float> acc)
            => GemmQ4_K.Accumulate(block, activation, acc);
    }

    /// <summary>Σ_j sc_j · (q·a over sub-block j) for the eight rows of one super-block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> ScaledSum(byte* p, byte* qa, Vector256<byte> nibble)
    {
        var isum = Vector256<int>.Zero;
        for (int j = 0; j < 8; j++)
        {
            byte* q = p + 128 * j, x = qa + 32 * j;
            var pairs = Vector256<short>.Zero;
            for (int k = 0; k < 4; k++)
            {
                var packed = Vector256.LoadAligned(q + 32 * k);
                pairs += GemmQ4_0.Pairs(packed & nibble, x, k);
                pairs += GemmQ4_0.Pairs(Avx2.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & nibble, x, k + 4);
            }
            isum += Avx2.MultiplyAddAdjacent(pairs, Vector256.LoadAligned((short*)(p + ScaleOffset + 32 * j)));
        }
        return isum;
    }

    /// <summary>Σ_j m_j · bsum_j (32-element activation sums) for the eight rows, exact.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> MinSum(byte* p, byte* ah)
    {
        // The 16 stored 16-element sums, added in pairs: dwords 0, 1, 4, 5 hold (s0,s1), (s2,s3), (s4,s5), (s6,s7).
        var b = Vector256.Load((short*)(ah + 4 + QK));
        var s = Avx2.HorizontalAdd(b, b).AsInt32();
        var m = Avx2.MultiplyAddAdjacent(Vector256.LoadAligned((short*)(p + MinOffset)), Avx2.PermuteVar8x32(s, Vector256.Create(0)).AsInt16());
        m += Avx2.MultiplyAddAdjacent(Vector256.LoadAligned((short*)(p + MinOffset + 32)), Avx2.PermuteVar8x32(s, Vector256.Create(1)).AsInt16());
        m += Avx2.MultiplyAddAdjacent(Vector256.LoadAligned((short*)(p + MinOffset + 64)), Avx2.PermuteVar8x32(s, Vector256.Create(4)).AsInt16());
        m += Avx2.MultiplyAddAdjacent(Vector256.LoadAligned((short*)(p + MinOffset + 96)), Avx2.PermuteVar8x32(s, Vector256.Create(5)).AsInt16());
        return m;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Accumulate(byte* p, byte* ah, Vector256<float> acc)
    {
        var isum = ScaledSum(p, ah + 4, Vector256.Create((byte)0x0F));
        var msum = MinSum(p, ah);
        var da = Vector256.Create(Unsafe.ReadUnaligned<float>(ah));
        var x = (da * Vector256.LoadAligned((float*)(p + DOffset))) * Avx.ConvertToVector256Single(isum);
        var z = (da * Vector256.LoadAligned((float*)(p + DMinOffset))) * Avx.ConvertToVector256Single(msum);
        return acc + (x - z);
    }
}
