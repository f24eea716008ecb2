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
internal unsafe struct GemmQ8_0 : IPackedFormat
{
    private const int BlockBytes = 34;

    /// <summary>Bytes of one block of a group of eight rows: 256 of interleaved quants, 32 of scales.</summary>
    public const int GroupBlockBytes = 288;

    static int IPackedFormat.GroupBlockBytes => GroupBlockBytes;

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

    /// <summary>Activation row <paramref name="t"/>'s exact block sum, scaled into its float accumulator.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Finish<TD>(Vector256<int> acc, Vector256<float> dw, byte* a, nint aStride, int t, int nb, int b, Vector256<float> c)
        where TD : struct, IByteDot
    {
        byte* row = a + t * aStride;
        var isum = TD.Unbias(acc, Q8Activation.Sums(row, nb)[b]);
        return Fma.MultiplyAdd(Avx.ConvertToVector256Single(isum), dw * Vector256.Create(Q8Activation.Scales(row, nb)[b]), c);
    }

    /// <summary>A packed group of eight rows against TS activation rows (up to eight); row i of activation t lands at y[t*yStride + i].</summary>
    public static void Tile<TS, TD>(byte* group, byte* a, nint aStride, int nb, float* y, nint yStride)
        where TS : struct, ISeqCount where TD : struct, IByteDot
    {
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        for (int b = 0; b < nb; b++)
        {
            byte* p = group + (nint)b * GroupBlockBytes;
            byte* x = a + (nint)b * Q8Activation.BlockBytes + 2;
            Vector256<int> i0 = default, i1 = default, i2 = default, i3 = default, i4 = default, i5 = default, i6 = default, i7 = default;
            for (int k = 0; k < 8; k++)
            {
                var q = Vector256.LoadAligned(p + 32 * k).AsSByte();
                var u = TD.Unsigned(q);
                i0 = TD.AddSigned(i0, u, q, PackedGroups.Broadcast(x, aStride, 0, k));
                if (TS.N > 1) i1 = TD.AddSigned(i1, u, q, PackedGroups.Broadcast(x, aStride, 1, k));
                if (TS.N > 2) i2 = TD.AddSigned(i2, u, q, PackedGroups.Broadcast(x, aStride, 2, k));
                if (TS.N > 3) i3 = TD.AddSigned(i3, u, q, PackedGroups.Broadcast(x, aStride, 3, k));
                if (TS.N > 4) i4 = TD.AddSigned(i4, u, q, PackedGroups.Broadcast(x, aStride, 4, k));
                if (TS.N > 5) i5 = TD.AddSigned(i5, u, q, PackedGroups.Broadcast(x, aStride, 5, k));
                if (TS.N > 6) i6 = TD.AddSigned(i6, u, q, PackedGroups.Broadcast(x, aStride, 6, k));
                if (TS.N > 7) i7 = TD.AddSigned(i7, u, q, PackedGroups.Broadcast(x, aStride, 7, k));
            }
            var dw = Vector256.LoadAligned((float*)(p + 256));
            c0 = Finish<TD>(i0, dw, a, aStride, 0, nb, b, c0);
            if (TS.N > 1) c1 = Finish<TD>(i1, dw, a, aStride, 1, nb, b, c1);
            if (TS.N > 2) c2 = Finish<TD>(i2, dw, a, aStride, 2, nb, b, c2);
            if (TS.N > 3) c3 = Finish<TD>(i3, dw, a, aStride, 3, nb, b, c3);
            if (TS.N > 4) c4 = Finish<TD>(i4, dw, a, aStride, 4, nb, b, c4);
            if (TS.N > 5) c5 = Finish<TD>(i5, dw, a, aStride, 5, nb, b, c5);
            if (TS.N > 6) c6 = Finish<TD>(i6, dw, a, aStride, 6, nb, b, c6);
            if (TS.N > 7) c7 = Finish<TD>(i7, dw, a, aStride, 7, nb, b, c7);
        }
        PackedGroups.Store<TS>(y, yStride, c0, c1, c2, c3, c4, c5, c6, c7);
    }

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
