using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Engine.Tensors;

/// <summary>
/// Q8_0 against <see cref="Q8Activation"/> rows, eight weight rows at a time: a group's quants are
/// interleaved four bytes per row (the dword transpose of <see cref="GemmQ4_0"/>), so one multiply-add of a
/// broadcast activation dword feeds all eight rows and every 32-bit lane is one row's dot. Both operands are
/// signed; the integer steps come from an <see cref="IByteDot"/> per instruction set (AVX2's sign trick, or
/// AVX-VNNI on quants offset to unsigned) and land in 32 bits at every step.
/// A group of eight rows is stored as <see cref="GroupBlockBytes"/> per block: eight 32-byte vectors (dword
/// j of every row in vector j), then the eight rows' scales as floats. Models keep their Q8_0 matrices in
/// this layout (<see cref="PackedMatrix"/>); raw rows are packed a group at a time into scratch.
/// Numerics, per dot: one float accumulator; for each block in order, acc = fma(Σq·a, dw·da, acc), the
/// integer sum exact. The scalar kernel mirrors this bit for bit.
/// </summary>
internal static unsafe class GemmQ8_0
{
    private const int BlockBytes = 34;

    /// <summary>Bytes of one block of a group of eight rows: 256 of interleaved quants, 32 of scales.</summary>
    public const int GroupBlockBytes = 288;

    /// <summary>Raw rows, packed a group at a time into scratch, with the integer steps of <typeparamref name="TD"/>.</summary>
    public static void Block<TD>(byte* w, nint rowBytes, int nRows, byte* a, nint aStride, int nSeq, int n, float* y, nint yStride)
        where TD : struct, IByteDot
        => PackedGroups.RunRaw(w, rowBytes, nRows, a, aStride, nSeq, n / 32, y, yStride, GroupBlockBytes, &PackGroup, &Group<TD>);

    /// <summary>One packed group (its first <paramref name="rows"/> real) against every activation row; row i of activation s lands at y[s*yStride + i].</summary>
    internal static void Group<TD>(byte* group, int rows, int nb, byte* a, nint aStride, int nSeq, float* y, nint yStride)
        where TD : struct, IByteDot
        => PackedGroups.Run<Tiles<TD>>(group, rows, nb, a, aStride, nSeq, y, yStride);

    private struct Tiles<TD> : IGroupTile where TD : struct, IByteDot
    {
        public static void Tile<TS>(byte* group, byte* a, nint aStride, int nb, float* y, nint yStride) where TS : struct, ISeqCount
            => GemmQ8_0.Tile<TS, TD>(group, a, aStride, nb, y, yStride);
    }

    /// <summary>Packs up to eight rows (missing ones as zeros) into the group layout at <paramref name="dst"/>.</summary>
    public static void PackGroup(byte* w, nint rowBytes, int rows, int nb, byte* dst)
    {
        var v = stackalloc Vector256<int>[8];
        for (int b = 0; b < nb; b++, dst += GroupBlockBytes)
        {
            GemmQ4_0.Transpose(Quants(w, rowBytes, 0, rows, b), Quants(w, rowBytes, 1, rows, b), Quants(w, rowBytes, 2, rows, b),
                Quants(w, rowBytes, 3, rows, b), Quants(w, rowBytes, 4, rows, b), Quants(w, rowBytes, 5, rows, b),
                Quants(w, rowBytes, 6, rows, b), Quants(w, rowBytes, 7, rows, b), v);
            for (int j = 0; j < 8; j++)
                v[j].Store((int*)(dst + 32 * j));
            PackedGroups.StoreScales(w, rowBytes, rows, (nint)b * BlockBytes, (float*)(dst + 256));
        }
    }

    /// <summary>Row <paramref name="i"/>'s block <paramref name="b"/> quants, zeros past the last row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Quants(byte* w, nint rowBytes, int i, int rows, int b)
        => i < rows ? Vector256.Load((int*)(w + i * rowBytes + (nint)b * BlockBytes + 2)) : Vector256<int>.Zero;

    /// <summary>A packed group of eight rows against TS activation rows; row i of activation t lands at y[t*yStride + i].</summary>
    private static void Tile<TS, TD>(byte* group, byte* a, nint aStride, int nb, float* y, nint yStride)
        where TS : struct, ISeqCount where TD : struct, IByteDot
    {
        byte* a1 = a + aStride, a2 = a1 + aStride, a3 = a2 + aStride;
        float* s0 = Q8Activation.Scales(a, nb), s1 = Q8Activation.Scales(a1, nb);
        float* s2 = Q8Activation.Scales(a2, nb), s3 = Q8Activation.Scales(a3, nb);
        int* z0 = Q8Activation.Sums(a, nb), z1 = Q8Activation.Sums(a1, nb);
        int* z2 = Q8Activation.Sums(a2, nb), z3 = Q8Activation.Sums(a3, nb);
        var c0 = Vector256<float>.Zero;
        var c1 = Vector256<float>.Zero;
        var c2 = Vector256<float>.Zero;
        var c3 = Vector256<float>.Zero;
        for (int b = 0; b < nb; b++)
        {
            byte* p = group + (nint)b * GroupBlockBytes;
            nint xo = (nint)b * Q8Activation.BlockBytes + 2;
            byte* x0 = a + xo, x1 = a1 + xo, x2 = a2 + xo, x3 = a3 + xo;
            Vector256<int> i0 = default, i1 = default, i2 = default, i3 = default;
            for (int j = 0; j < 8; j++)
            {
                var q = Vector256.LoadAligned(p + 32 * j).AsSByte();
                var u = TD.Unsigned(q);
                i0 = TD.AddSigned(i0, u, q, Broadcast(x0, j));
                if (TS.N > 1) i1 = TD.AddSigned(i1, u, q, Broadcast(x1, j));
                if (TS.N > 2) i2 = TD.AddSigned(i2, u, q, Broadcast(x2, j));
                if (TS.N > 3) i3 = TD.AddSigned(i3, u, q, Broadcast(x3, j));
            }
            var dw = Vector256.LoadAligned((float*)(p + 256));
            c0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(TD.Unbias(i0, z0[b])), dw * Vector256.Create(s0[b]), c0);
            if (TS.N > 1) c1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(TD.Unbias(i1, z1[b])), dw * Vector256.Create(s1[b]), c1);
            if (TS.N > 2) c2 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(TD.Unbias(i2, z2[b])), dw * Vector256.Create(s2[b]), c2);
            if (TS.N > 3) c3 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(TD.Unbias(i3, z3[b])), dw * Vector256.Create(s3[b]), c3);
        }
        c0.Store(y);
        if (TS.N > 1) c1.Store(y + yStride);
        if (TS.N > 2) c2.Store(y + 2 * yStride);
        if (TS.N > 3) c3.Store(y + 3 * yStride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Broadcast(byte* x, int k) => Vector256.Create(Unsafe.ReadUnaligned<int>(x + 4 * k)).AsSByte();

    public static void ScalarBlock(byte* w, nint rowBytes, int nRows, byte* a, nint aStride, int nSeq, int n, float* y, nint yStride)
    {
        int nb = n / 32;
        for (int r = 0; r < nRows; r++)
        {
            byte* wr = w + r * rowBytes;
            for (int s = 0; s < nSeq; s++)
            {
                byte* ar = a + s * aStride;
                float acc = 0;
                for (int b = 0; b < nb; b++)
                {
                    byte* wp = wr + (nint)b * BlockBytes;
                    sbyte* qw = (sbyte*)(wp + 2);
                    sbyte* qa = (sbyte*)(ar + (nint)b * Q8Activation.BlockBytes + 2);
                    int isum = 0;
                    for (int e = 0; e < 32; e++)
                        isum += qw[e] * qa[e];
                    acc = MathF.FusedMultiplyAdd(isum, HalfFloat.ToSingle(wp) * Q8Activation.Scales(ar, nb)[b], acc);
                }
                y[s * yStride + r] = acc;
            }
        }
    }
}
