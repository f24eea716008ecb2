using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Engine.Tensors;

/// <summary>
/// Packed Q6_K against Q8_K activations, eight weight rows per group with one row per 32-bit lane (see
/// <see cref="GemmQ4_0"/> for the interleaving). Per super-block of a group, for each 32-element chunk:
/// the low nibbles of the unsigned quants u = q + 32 as four interleaved vectors, their top two bits as
/// two vectors (four quants' bits per byte), then per 16-element sub-block the scales as sign-extendable
/// byte pairs per row, the scales of consecutive sub-blocks paired for the activation block sums, and the
/// rows' d as floats. Two pair-sum steps of u ≤ 63 against |a| ≤ 128 stay below 2^15 in 16 bits.
/// Numerics match <see cref="DotK"/>'s Q6_K kernels exactly: per super-block the exact integers
/// Σ sc·(u·a) and Σ sc·bsum, then acc += (da·d)·(isum - 32·offset).
/// </summary>
internal static unsafe class GemmQ6_K
{
    private const int QK = KQuants.QK;
    private const int HighOffset = 8 * 128, ScaleOffset = HighOffset + 8 * 64, PairOffset = ScaleOffset + 16 * 16;
    private const int DOffset = PairOffset + 8 * 16;

    /// <summary>Bytes of one super-block of a group of eight rows.</summary>
    public const int GroupBlockBytes = DOffset + 32;

    /// <summary>Packs up to eight rows (missing ones as zeros) of <paramref name="nb"/> super-blocks.</summary>
    public static void PackGroup(byte* w, nint rowBytes, int rows, int nb, byte* dst)
    {
        var nibble = Vector256.Create((byte)0x0F);
        var v = stackalloc Vector256<int>[8];
        for (int i = 0; i < nb; i++, dst += GroupBlockBytes)
        {
            for (int r = 0; r < 8; r++)
            {
                byte* xb = w + r * rowBytes + (nint)i * KQuants.Q6KBytes;
                sbyte* sc = (sbyte*)(xb + 192);
                bool real = r < rows;
                ((float*)(dst + DOffset))[r] = real ? HalfFloat.ToSingle(xb + 208) : 0;
                for (int s = 0; s < 16; s++)
                {
                    sbyte value = real ? sc[s] : (sbyte)0;
                    ((sbyte*)(dst + ScaleOffset + 16 * s))[2 * r] = value;
                    ((sbyte*)(dst + ScaleOffset + 16 * s))[2 * r + 1] = value;
                    ((sbyte*)(dst + PairOffset + 16 * (s >> 1)))[2 * r + (s & 1)] = value;
                }
            }
            for (int j = 0; j < 8; j++)
            {
                GemmQ4_0.Transpose(
                    Quants(w, rowBytes, 0, rows, i, j), Quants(w, rowBytes, 1, rows, i, j),
                    Quants(w, rowBytes, 2, rows, i, j), Quants(w, rowBytes, 3, rows, i, j),
                    Quants(w, rowBytes, 4, rows, i, j), Quants(w, rowBytes, 5, rows, i, j),
                    Quants(w, rowBytes, 6, rows, i, j), Quants(w, rowBytes, 7, rows, i, j), v);
                byte* low = dst + 128 * j, high = dst + HighOffset + 64 * j;
                for (int k = 0; k < 4; k++)
                    ((v[k].AsByte() & nibble) | (Avx2.ShiftLeftLogical(v[k + 4].AsUInt16(), 4).AsByte() & ~nibble)).Store(low + 32 * k);
                for (int half = 0; half < 2; half++)
                {
                    // Top two bits of quants 4·half + k at bits 2k..2k+1 of each byte.
                    var bits = Vector256<byte>.Zero;
                    for (int k = 0; k < 4; k++)
                        bits |= Vector256.ShiftLeft((Avx2.ShiftRightLogical(v[4 * half + k].AsUInt16(), 4).AsByte() & Vector256.Create((byte)0x03)).AsUInt16(), 2 * k).AsByte();
                    bits.Store(high + 32 * half);
                }
            }
        }
    }

    /// <summary>Row <paramref name="r"/>'s 32 unsigned quants of chunk <paramref name="j"/> (elements 32j..32j+31).</summary>
    private static Vector256<int> Quants(byte* w, nint rowBytes, int r, int rows, int i, int j)
    {
        if (r >= rows) return Vector256<int>.Zero;
        byte* xb = w + r * rowBytes + (nint)i * KQuants.Q6KBytes;
        int h = j >> 2, part = j & 3;
        var l = Vector256.Load(xb + 64 * h + 32 * (part & 1));
        var hv = Vector256.Load(xb + 128 + 32 * h);
        var low = (part < 2 ? l : Avx2.ShiftRightLogical(l.AsUInt16(), 4).AsByte()) & Vector256.Create((byte)0x0F);
        // Bits 2·part..2·part+1 of the high byte are bits 4..5 of the quant.
        var top = Vector256.ShiftRightLogical(hv.AsUInt16(), 2 * part).AsByte() & Vector256.Create((byte)0x03);
        return (low | Avx2.ShiftLeftLogical(top.AsUInt16(), 4).AsByte()).AsInt32();
    }

    /// <summary>One packed group (its first <paramref name="rows"/> real) against every activation row; row i of activation s lands at y[s*yStride + i].</summary>
    internal static void Group(byte* group, int rows, int nb, byte* a, nint aStride, int nSeq, float* y, nint yStride)
        => PackedGroups.Run<Tiles>(group, rows, nb, a, aStride, nSeq, y, yStride);

    private struct Tiles : IGroupTile, ISuperBlockKernel
    {
        public static int GroupBlockBytes => GemmQ6_K.GroupBlockBytes;

        public static void Tile<TS>(byte* group, byte* a, nint aStride, int nb, float* y, nint yStride) where TS : struct, ISeqCount
            => PackedGroups.SuperBlockTile<Tiles, TS>(group, a, aStride, nb, y, yStride);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Accumulate(byte* block, byte* activation, Vector256<float> acc)
            => GemmQ6_K.Accumulate(block, activation, acc);
    }

    /// <summary>Quants k (0..3) of a chunk from its low-nibble vector and top-bit vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Quant(Vector256<byte> low, Vector256<byte> bits, int k, Vector256<byte> nibble)
    {
        var top = k switch
        {
            0 => Avx2.ShiftLeftLogical(bits.AsUInt16(), 4).AsByte(),
            1 => Avx2.ShiftLeftLogical(bits.AsUInt16(), 2).AsByte(),
            2 => bits,
            _ => Avx2.ShiftRightLogical(bits.AsUInt16(), 2).AsByte(),
        };
        return (low & nibble) | (top & Vector256.Create((byte)0x30));
    }

    /// <summary>Σ_s sc_s · (u·a over sub-block s) for the eight rows of one super-block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> ScaledSum(byte* p, byte* qa, Vector256<byte> nibble)
    {
        var isum = Vector256<int>.Zero;
        for (int j = 0; j < 8; j++)
        {
            byte* l = p + 128 * j, h = p + HighOffset + 64 * j, x = qa + 32 * j;
            var lo0 = Vector256.LoadAligned(l);
            var lo1 = Vector256.LoadAligned(l + 32);
            var lo2 = Vector256.LoadAligned(l + 64);
            var lo3 = Vector256.LoadAligned(l + 96);
            var h0 = Vector256.LoadAligned(h);
            var h1 = Vector256.LoadAligned(h + 32);
            var sc0 = Avx2.ConvertToVector256Int16((sbyte*)(p + ScaleOffset + 32 * j));
            var sc1 = Avx2.ConvertToVector256Int16((sbyte*)(p + ScaleOffset + 32 * j + 16));
            // Quants 0..3 are sub-block 2j, 4..7 sub-block 2j+1; each pair of steps stays within 16 bits.
            isum += Avx2.MultiplyAddAdjacent(GemmQ4_0.Pairs(Quant(lo0, h0, 0, nibble), x, 0) + GemmQ4_0.Pairs(Quant(lo1, h0, 1, nibble), x, 1), sc0);
            isum += Avx2.MultiplyAddAdjacent(GemmQ4_0.Pairs(Quant(lo2, h0, 2, nibble), x, 2) + GemmQ4_0.Pairs(Quant(lo3, h0, 3, nibble), x, 3), sc0);
            var hi0 = Avx2.ShiftRightLogical(lo0.AsUInt16(), 4).AsByte();
            var hi1 = Avx2.ShiftRightLogical(lo1.AsUInt16(), 4).AsByte();
            var hi2 = Avx2.ShiftRightLogical(lo2.AsUInt16(), 4).AsByte();
            var hi3 = Avx2.ShiftRightLogical(lo3.AsUInt16(), 4).AsByte();
            isum += Avx2.MultiplyAddAdjacent(GemmQ4_0.Pairs(Quant(hi0, h1, 0, nibble), x, 4) + GemmQ4_0.Pairs(Quant(hi1, h1, 1, nibble), x, 5), sc1);
            isum += Avx2.MultiplyAddAdjacent(GemmQ4_0.Pairs(Quant(hi2, h1, 2, nibble), x, 6) + GemmQ4_0.Pairs(Quant(hi3, h1, 3, nibble), x, 7), sc1);
        }
        return isum;
    }

    /// <summary>Σ_s sc_s · bsum_s (16-element activation sums) for the eight rows, exact.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Offset(byte* p, byte* ah)
    {
        var b = Vector256.Load((int*)(ah + 4 + QK));
        var off = Vector256<int>.Zero;
        for (int c = 0; c < 8; c++)
            off += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16((sbyte*)(p + PairOffset + 16 * c)),
                Avx2.PermuteVar8x32(b, Vector256.Create(c)).AsInt16());
        return off;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Accumulate(byte* p, byte* ah, Vector256<float> acc)
    {
        var total = ScaledSum(p, ah + 4, Vector256.Create((byte)0x0F)) - (Offset(p, ah) << 5);
        var da = Vector256.Create(Unsafe.ReadUnaligned<float>(ah));
        return acc + (da * Vector256.LoadAligned((float*)(p + DOffset))) * Avx.ConvertToVector256Single(total);
    }
}
