using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Engine.Tensors;

/// <summary>
/// Block kernel for Q4_0 weights against <see cref="Q8Activation"/> rows. Eight weight rows at a time are
/// decoded to unsigned quants u = q + 8 and interleaved four bytes per row (a dword transpose), so one
/// multiply-add of a broadcast activation dword feeds all eight rows and every 32-bit lane is one row's
/// dot. The integer steps come from an <see cref="IByteDot"/> per instruction set: with AVX2 the small
/// unsigned quants let eight such products add up in 16 bits before widening, so each block costs one
/// widening per eight rows; with AVX-VNNI each step lands in 32 bits at once.
/// A group of eight rows is stored as <see cref="GroupBlockBytes"/> per block: four 32-byte vectors whose
/// low and high nibbles are the interleaved dwords j and j + 4, then the eight rows' scales as floats.
/// Models keep their Q4_0 matrices in this layout (<see cref="PackedMatrix"/>), one sequential stream
/// per group; raw rows are packed a group at a time into scratch and reused by every activation row.
/// Numerics, per dot: one float accumulator; for each block in order, acc = fma(Σu·a, dw·da, acc), then
/// acc = fma(-8·dw, da·Σa, acc), the integer sum exact. The scalar kernel mirrors this bit for bit.
/// </summary>
internal unsafe struct GemmQ4_0 : IPackedFormat
{
    private const int BlockBytes = 18;

    /// <summary>Bytes of one block of a group of eight rows: 128 of interleaved nibbles, 32 of scales.</summary>
    public const int GroupBlockBytes = 160;

    static int IPackedFormat.GroupBlockBytes => GroupBlockBytes;

    /// <summary>Packs up to eight rows (missing ones as zeros) into the group layout at <paramref name="dst"/>.</summary>
    public static void PackGroup(byte* w, nint rowBytes, int rows, int nb, byte* dst)
    {
        var nibble = Vector256.Create((byte)0x0F);
        for (int b = 0; b < nb; b++, dst += GroupBlockBytes)
        {
            var u0 = Decode(w, rowBytes, 0, rows, b);
            var u1 = Decode(w, rowBytes, 1, rows, b);
            var u2 = Decode(w, rowBytes, 2, rows, b);
            var u3 = Decode(w, rowBytes, 3, rows, b);
            var u4 = Decode(w, rowBytes, 4, rows, b);
            var u5 = Decode(w, rowBytes, 5, rows, b);
            var u6 = Decode(w, rowBytes, 6, rows, b);
            var u7 = Decode(w, rowBytes, 7, rows, b);
            PackedGroups.StoreScales(w, rowBytes, rows, (nint)b * BlockBytes, (float*)(dst + 128));
            StoreInterleaved(u0, u1, u2, u3, u4, u5, u6, u7, dst, nibble);
        }
    }

    /// <summary>
    /// Eight rows' 32 unsigned 4-bit quants (row i in <paramref name="u0"/>..<paramref name="u7"/>, element
    /// order) as four 32-byte vectors: dword j of every row in the low nibbles, dword j + 4 in the high ones.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void StoreInterleaved(Vector256<int> u0, Vector256<int> u1, Vector256<int> u2, Vector256<int> u3,
        Vector256<int> u4, Vector256<int> u5, Vector256<int> u6, Vector256<int> u7, byte* dst, Vector256<byte> nibble)
    {
        var v = stackalloc Vector256<int>[8];
        Transpose(u0, u1, u2, u3, u4, u5, u6, u7, v);
        Store(dst, v[0], v[4], nibble);
        Store(dst + 32, v[1], v[5], nibble);
        Store(dst + 64, v[2], v[6], nibble);
        Store(dst + 96, v[3], v[7], nibble);
    }

    /// <summary>An 8×8 dword transpose: v[k] holds dword k of rows u0..u7, one row per lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose(Vector256<int> u0, Vector256<int> u1, Vector256<int> u2, Vector256<int> u3,
        Vector256<int> u4, Vector256<int> u5, Vector256<int> u6, Vector256<int> u7, Vector256<int>* v)
    {
        var t0 = Avx2.UnpackLow(u0, u1);
        var t1 = Avx2.UnpackHigh(u0, u1);
        var t2 = Avx2.UnpackLow(u2, u3);
        var t3 = Avx2.UnpackHigh(u2, u3);
        var t4 = Avx2.UnpackLow(u4, u5);
        var t5 = Avx2.UnpackHigh(u4, u5);
        var t6 = Avx2.UnpackLow(u6, u7);
        var t7 = Avx2.UnpackHigh(u6, u7);
        var s0 = Avx2.UnpackLow(t0.AsInt64(), t2.AsInt64());
        var s1 = Avx2.UnpackHigh(t0.AsInt64(), t2.AsInt64());
        var s2 = Avx2.UnpackLow(t1.AsInt64(), t3.AsInt64());
        var s3 = Avx2.UnpackHigh(t1.AsInt64(), t3.AsInt64());
        var s4 = Avx2.UnpackLow(t4.AsInt64(), t6.AsInt64());
        var s5 = Avx2.UnpackHigh(t4.AsInt64(), t6.AsInt64());
        var s6 = Avx2.UnpackLow(t5.AsInt64(), t7.AsInt64());
        var s7 = Avx2.UnpackHigh(t5.AsInt64(), t7.AsInt64());
        v[0] = Avx2.Permute2x128(s0, s4, 0x20).AsInt32();
        v[1] = Avx2.Permute2x128(s1, s5, 0x20).AsInt32();
        v[2] = Avx2.Permute2x128(s2, s6, 0x20).AsInt32();
        v[3] = Avx2.Permute2x128(s3, s7, 0x20).AsInt32();
        v[4] = Avx2.Permute2x128(s0, s4, 0x31).AsInt32();
        v[5] = Avx2.Permute2x128(s1, s5, 0x31).AsInt32();
        v[6] = Avx2.Permute2x128(s2, s6, 0x31).AsInt32();
        v[7] = Avx2.Permute2x128(s3, s7, 0x31).AsInt32();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(byte* dst, Vector256<int> low, Vector256<int> high, Vector256<byte> nibble)
        => (low.AsByte() | (Avx2.ShiftLeftLogical(high.AsUInt16(), 4).AsByte() & ~nibble)).Store(dst);

    /// <summary>Row <paramref name="i"/>'s block <paramref name="b"/> as unsigned quants, zeros past the last row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Decode(byte* w, nint rowBytes, int i, int rows, int b)
        => i < rows ? Block32Bits.Nibbles(w + i * rowBytes + (nint)b * BlockBytes + 2).AsInt32() : Vector256<int>.Zero;

    /// <summary>Eight rows' 16-bit pair sums of one block against one activation block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<short> Pairs(Vector256<byte> v, byte* x, int k)
        => Avx2.MultiplyAddAdjacent(v, Vector256.Create(Unsafe.ReadUnaligned<int>(x + 4 * k)).AsSByte());

    /// <summary>Activation row <paramref name="t"/>'s block sum scaled into its float accumulator, then the -8 bias term.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Finish<TD>(Vector256<int> acc, Vector256<float> dw, Vector256<float> dwBias, byte* a, nint aStride, int t,
        int nb, int b, Vector256<float> c) where TD : struct, IByteDot
    {
        byte* row = a + t * aStride;
        c = Fma.MultiplyAdd(Avx.ConvertToVector256Single(TD.Widen(acc)), dw * Vector256.Create(Q8Activation.Scales(row, nb)[b]), c);
        return Fma.MultiplyAdd(dwBias, Vector256.Create(Q8Activation.ScaledSums(row, nb)[b]), c);
    }

    /// <summary>
    /// A packed group of eight rows against TS activation rows (up to eight); row i of activation t lands at
    /// y[t*yStride + i]. Each unpacked weight vector serves every activation row of the tile.
    /// </summary>
    public static void Tile<TS, TD>(byte* group, byte* a, nint aStride, int nb, float* y, nint yStride)
        where TS : struct, ISeqCount where TD : struct, IByteDot
    {
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        var minusBias = Vector256.Create(-8f);
        var nibble = Vector256.Create((byte)0x0F);
        for (int b = 0; b < nb; b++)
        {
            byte* p = group + (nint)b * GroupBlockBytes;
            byte* x = a + (nint)b * Q8Activation.BlockBytes + 2;
            Vector256<int> i0 = default, i1 = default, i2 = default, i3 = default, i4 = default, i5 = default, i6 = default, i7 = default;
            for (int j = 0; j < 4; j++)
            {
                // Vector j holds dwords j (low nibbles) and j + 4 (high nibbles).
                var packed = Vector256.LoadAligned(p + 32 * j);
                var v = packed & nibble;
                i0 = TD.AddSmall(i0, v, PackedGroups.Broadcast(x, aStride, 0, j));
                if (TS.N > 1) i1 = TD.AddSmall(i1, v, PackedGroups.Broadcast(x, aStride, 1, j));
                if (TS.N > 2) i2 = TD.AddSmall(i2, v, PackedGroups.Broadcast(x, aStride, 2, j));
                if (TS.N > 3) i3 = TD.AddSmall(i3, v, PackedGroups.Broadcast(x, aStride, 3, j));
                if (TS.N > 4) i4 = TD.AddSmall(i4, v, PackedGroups.Broadcast(x, aStride, 4, j));
                if (TS.N > 5) i5 = TD.AddSmall(i5, v, PackedGroups.Broadcast(x, aStride, 5, j));
                if (TS.N > 6) i6 = TD.AddSmall(i6, v, PackedGroups.Broadcast(x, aStride, 6, j));
                if (TS.N > 7) i7 = TD.AddSmall(i7, v, PackedGroups.Broadcast(x, aStride, 7, j));
                v = Avx2.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & nibble;
                i0 = TD.AddSmall(i0, v, PackedGroups.Broadcast(x, aStride, 0, j + 4));
                if (TS.N > 1) i1 = TD.AddSmall(i1, v, PackedGroups.Broadcast(x, aStride, 1, j + 4));
                if (TS.N > 2) i2 = TD.AddSmall(i2, v, PackedGroups.Broadcast(x, aStride, 2, j + 4));
                if (TS.N > 3) i3 = TD.AddSmall(i3, v, PackedGroups.Broadcast(x, aStride, 3, j + 4));
                if (TS.N > 4) i4 = TD.AddSmall(i4, v, PackedGroups.Broadcast(x, aStride, 4, j + 4));
                if (TS.N > 5) i5 = TD.AddSmall(i5, v, PackedGroups.Broadcast(x, aStride, 5, j + 4));
                if (TS.N > 6) i6 = TD.AddSmall(i6, v, PackedGroups.Broadcast(x, aStride, 6, j + 4));
                if (TS.N > 7) i7 = TD.AddSmall(i7, v, PackedGroups.Broadcast(x, aStride, 7, j + 4));
            }
            var dw = Vector256.LoadAligned((float*)(p + 128));
            var dwBias = dw * minusBias;
            c0 = Finish<TD>(i0, dw, dwBias, a, aStride, 0, nb, b, c0);
            if (TS.N > 1) c1 = Finish<TD>(i1, dw, dwBias, a, aStride, 1, nb, b, c1);
            if (TS.N > 2) c2 = Finish<TD>(i2, dw, dwBias, a, aStride, 2, nb, b, c2);
            if (TS.N > 3) c3 = Finish<TD>(i3, dw, dwBias, a, aStride, 3, nb, b, c3);
            if (TS.N > 4) c4 = Finish<TD>(i4, dw, dwBias, a, aStride, 4, nb, b, c4);
            if (TS.N > 5) c5 = Finish<TD>(i5, dw, dwBias, a, aStride, 5, nb, b, c5);
            if (TS.N > 6) c6 = Finish<TD>(i6, dw, dwBias, a, aStride, 6, nb, b, c6);
            if (TS.N > 7) c7 = Finish<TD>(i7, dw, dwBias, a, aStride, 7, nb, b, c7);
        }
        PackedGroups.Store<TS>(y, yStride, c0, c1, c2, c3, c4, c5, c6, c7);
    }

    public static void ScalarBlock(byte* w, nint rowBytes, int nRows, byte* a, nint aStride, int nSeq, int n, float* y, nint yStride)
    {
        int nb = n / 32;
        int* q = stackalloc int[32];
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
                    Block32Bits.NibblesScalar(wp + 2, q, 0);
                    sbyte* qa = (sbyte*)(ar + (nint)b * Q8Activation.BlockBytes + 2);
                    int isum = 0;
                    for (int e = 0; e < 32; e++)
                        isum += q[e] * qa[e];
                    float dw = HalfFloat.ToSingle(wp);
                    acc = MathF.FusedMultiplyAdd(isum, dw * Q8Activation.Scales(ar, nb)[b], acc);
                    acc = MathF.FusedMultiplyAdd(dw * -8f, Q8Activation.ScaledSums(ar, nb)[b], acc);
                }
                y[s * yStride + r] = acc;
            }
        }
    }
}
