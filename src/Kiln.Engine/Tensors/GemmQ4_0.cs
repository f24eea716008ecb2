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
internal static unsafe class GemmQ4_0
{
    private const int BlockBytes = 18;

    /// <summary>Bytes of one block of a group of eight rows: 128 of interleaved nibbles, 32 of scales.</summary>
    public const int GroupBlockBytes = 160;

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
            => GemmQ4_0.Tile<TS, TD>(group, a, aStride, nb, y, yStride);
    }

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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Finish(Vector256<int> isum, Vector256<float> dw, Vector256<float> dwBias, byte* act, int nb, int b, Vector256<float> acc)
    {
        acc = Fma.MultiplyAdd(Avx.ConvertToVector256Single(isum), dw * Vector256.Create(Q8Activation.Scales(act, nb)[b]), acc);
        return Fma.MultiplyAdd(dwBias, Vector256.Create(Q8Activation.ScaledSums(act, nb)[b]), acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Broadcast(byte* x, int k) => Vector256.Create(Unsafe.ReadUnaligned<int>(x + 4 * k)).AsSByte();

    /// <summary>
    /// A packed group of eight rows against TS activation rows; row i of activation t lands at y[t*yStride + i].
    /// Low and high nibbles sum into separate accumulators, so each activation row has two independent chains.
    /// </summary>
    private static void Tile<TS, TD>(byte* group, byte* a, nint aStride, int nb, float* y, nint yStride)
        where TS : struct, ISeqCount where TD : struct, IByteDot
    {
        byte* a1 = a + aStride, a2 = a1 + aStride, a3 = a2 + aStride;
        var c0 = Vector256<float>.Zero;
        var c1 = Vector256<float>.Zero;
        var c2 = Vector256<float>.Zero;
        var c3 = Vector256<float>.Zero;
        var minusBias = Vector256.Create(-8f);
        var nibble = Vector256.Create((byte)0x0F);
        for (int b = 0; b < nb; b++)
        {
            byte* p = group + (nint)b * GroupBlockBytes;
            nint xo = (nint)b * Q8Activation.BlockBytes + 2;
            byte* x0 = a + xo, x1 = a1 + xo, x2 = a2 + xo, x3 = a3 + xo;
            Vector256<int> l0 = default, l1 = default, l2 = default, l3 = default;
            Vector256<int> h0 = default, h1 = default, h2 = default, h3 = default;
            for (int j = 0; j < 4; j++)
            {
                var packed = Vector256.LoadAligned(p + 32 * j);
                var v = packed & nibble;
                l0 = TD.AddSmall(l0, v, Broadcast(x0, j));
                if (TS.N > 1) l1 = TD.AddSmall(l1, v, Broadcast(x1, j));
                if (TS.N > 2) l2 = TD.AddSmall(l2, v, Broadcast(x2, j));
                if (TS.N > 3) l3 = TD.AddSmall(l3, v, Broadcast(x3, j));
                v = Avx2.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & nibble;
                h0 = TD.AddSmall(h0, v, Broadcast(x0, j + 4));
                if (TS.N > 1) h1 = TD.AddSmall(h1, v, Broadcast(x1, j + 4));
                if (TS.N > 2) h2 = TD.AddSmall(h2, v, Broadcast(x2, j + 4));
                if (TS.N > 3) h3 = TD.AddSmall(h3, v, Broadcast(x3, j + 4));
            }
            var dw = Vector256.LoadAligned((float*)(p + 128));
            var dwBias = dw * minusBias;
            c0 = Finish(TD.Total(l0, h0), dw, dwBias, a, nb, b, c0);
            if (TS.N > 1) c1 = Finish(TD.Total(l1, h1), dw, dwBias, a1, nb, b, c1);
            if (TS.N > 2) c2 = Finish(TD.Total(l2, h2), dw, dwBias, a2, nb, b, c2);
            if (TS.N > 3) c3 = Finish(TD.Total(l3, h3), dw, dwBias, a3, nb, b, c3);
        }
        c0.Store(y);
        if (TS.N > 1) c1.Store(y + yStride);
        if (TS.N > 2) c2.Store(y + 2 * yStride);
        if (TS.N > 3) c3.Store(y + 3 * yStride);
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
