using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Engine.Tensors;

/// <summary>
/// Dot products of one Q4_K/Q5_K/Q6_K weight row with up to four Q8_K activation rows.
/// Numerics: per super-block the scaled sums Σ sc·(q·a) and Σ min·bsum are exact integers; the row sum
/// adds (da·d)·isum − (da·dmin)·msum (Q6_K: (da·d)·isum with its −32 offset folded in via bsums) super-block
/// by super-block in float, identically in the scalar and AVX2 kernels.
/// </summary>
internal static unsafe class DotK
{
    public const int MaxSeq = 4;
    private const int QK = KQuants.QK, AB = KQuants.Q8KBytes;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Sum(Vector256<int> p)
    {
        var h = p.GetLower() + p.GetUpper();
        return h.GetElement(0) + h.GetElement(1) + h.GetElement(2) + h.GetElement(3);
    }

    /// <summary>Σ over 32 elements of scale·q·a as eight int32 partial sums; q unsigned (≤ 63).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> ScaledDot(Vector256<byte> q, byte* act, Vector256<short> scale)
        => Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(q, Vector256.Load(act).AsSByte()), scale);

    /// <summary>Σ_j min_j · (bsum over sub-block j's 32 activations), mins as bytes 8..15 of the unpacked scales.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int MinSum(byte* mins, byte* act)
    {
        short* bs = (short*)(act + 260);
        int ms = 0;
        for (int j = 0; j < 8; j++)
            ms += mins[j] * (bs[2 * j] + bs[2 * j + 1]);
        return ms;
    }

    public static void Q4KAvx2(byte* w, byte* a, nint aStride, int nSeq, int n, float* y, nint yStride)
        => Q45KAvx2(w, a, aStride, nSeq, n, y, yStride, five: false);

    public static void Q5KAvx2(byte* w, byte* a, nint aStride, int nSeq, int n, float* y, nint yStride)
        => Q45KAvx2(w, a, aStride, nSeq, n, y, yStride, five: true);

    private static void Q45KAvx2(byte* w, byte* a, nint aStride, int nSeq, int n, float* y, nint yStride, bool five)
    {
        int nb = n / QK, wb = five ? KQuants.Q5KBytes : KQuants.Q4KBytes, qOff = five ? 48 : 16;
        // The super-block is decoded once into 256 quant bytes and per-sub-block scale vectors, then
        // dotted against each activation row from L1.
        var q = stackalloc Vector256<byte>[8];
        var scale = stackalloc Vector256<short>[8];
        uint* packed = stackalloc uint[4];
        float* acc = stackalloc float[MaxSeq];
        for (int s = 0; s < nSeq; s++)
            acc[s] = 0;
        var low = Vector256.Create((byte)0x0F);
        for (int i = 0; i < nb; i++)
        {
            byte* xb = w + (nint)i * wb;
            float d = HalfFloat.ToSingle(xb), dmin = HalfFloat.ToSingle(xb + 2);
            KQuants.ScalesMins(xb + 4, packed);
            byte* sm = (byte*)packed;
            var hbits = five ? Vector256.Load(xb + 16) : default;
            for (int k = 0; k < 4; k++)
            {
                var raw = Vector256.Load(xb + qOff + 32 * k);
                var q0 = raw & low;
                var q1 = Vector256.ShiftRightLogical(raw.AsUInt16(), 4).AsByte() & low;
                if (five)
                {
                    var b0 = Vector256.Create((byte)(1 << (2 * k)));
                    var b1 = Vector256.Create((byte)(2 << (2 * k)));
                    var sixteen = Vector256.Create((byte)0x10);
                    q0 |= Vector256.Equals(hbits & b0, b0) & sixteen;
                    q1 |= Vector256.Equals(hbits & b1, b1) & sixteen;
                }
                q[2 * k] = q0;
                q[2 * k + 1] = q1;
            }
            for (int j = 0; j < 8; j++)
                scale[j] = Vector256.Create((short)sm[j]);
            // Each min twice, to pair with the two 16-element bsums of its sub-block.
            var mins = Vector128.CreateScalar(Unsafe.ReadUnaligned<ulong>(sm + 8)).AsByte();
            var mins16 = Avx2.ConvertToVector256Int16(Sse2.UnpackLow(mins, mins));
            byte* ah = a + (nint)i * AB;
            for (int s = 0; s < nSeq; s++, ah += aStride)
            {
                byte* qa = ah + 4;
                var sumi = Vector256<int>.Zero;
                for (int j = 0; j < 8; j++)
                    sumi += ScaledDot(q[j], qa + 32 * j, scale[j]);
                int msum = Sum(Avx2.MultiplyAddAdjacent(Vector256.Load((short*)(ah + 260)), mins16));
                float da = Unsafe.ReadUnaligned<float>(ah);
                acc[s] += (da * d) * Sum(sumi) - (da * dmin) * msum;
            }
        }
        for (int s = 0; s < nSeq; s++)
            y[s * yStride] = acc[s];
    }

    /// <summary>Integer dot of sub-block <paramref name="j"/> (of <paramref name="len"/> values) of unpacked weights and Q8_K activations.</summary>
    private static int SubBlockDot(int* q, sbyte* qa, int j, int len)
    {
        int part = 0;
        for (int l = len * j, end = l + len; l < end; l++)
            part += q[l] * qa[l];
        return part;
    }

    public static void Q4KScalar(byte* w, byte* a, nint aStride, int nSeq, int n, float* y, nint yStride)
        => Q45KScalar(w, a, aStride, nSeq, n, y, yStride, five: false);

    public static void Q5KScalar(byte* w, byte* a, nint aStride, int nSeq, int n, float* y, nint yStride)
        => Q45KScalar(w, a, aStride, nSeq, n, y, yStride, five: true);

    private static void Q45KScalar(byte* w, byte* a, nint aStride, int nSeq, int n, float* y, nint yStride, bool five)
    {
        int nb = n / QK, wb = five ? KQuants.Q5KBytes : KQuants.Q4KBytes;
        int* q = stackalloc int[QK];
        uint* packed = stackalloc uint[4];
        float* acc = stackalloc float[MaxSeq];
        for (int s = 0; s < nSeq; s++)
            acc[s] = 0;
        for (int i = 0; i < nb; i++)
        {
            byte* xb = w + (nint)i * wb;
            float d = HalfFloat.ToSingle(xb), dmin = HalfFloat.ToSingle(xb + 2);
            KQuants.ScalesMins(xb + 4, packed);
            byte* sc = (byte*)packed, mn = sc + 8;
            byte* qh = xb + 16, qs = xb + (five ? 48 : 16);
            for (int k = 0; k < 4; k++)
            {
                for (int l = 0; l < 32; l++)
                {
                    byte v = qs[32 * k + l];
                    q[64 * k + l] = (v & 0xF) | (five ? ((qh[l] >> (2 * k)) & 1) << 4 : 0);
                    q[64 * k + 32 + l] = (v >> 4) | (five ? ((qh[l] >> (2 * k + 1)) & 1) << 4 : 0);
                }
            }
            byte* ah = a + (nint)i * AB;
            for (int s = 0; s < nSeq; s++, ah += aStride)
            {
                int isum = 0;
                for (int j = 0; j < 8; j++)
                    isum += sc[j] * SubBlockDot(q, (sbyte*)(ah + 4), j, 32);
                float da = Unsafe.ReadUnaligned<float>(ah);
                acc[s] += (da * d) * isum - (da * dmin) * MinSum(mn, ah);
            }
        }
        for (int s = 0; s < nSeq; s++)
            y[s * yStride] = acc[s];
    }

    public static void Q6KAvx2(byte* w, byte* a, nint aStride, int nSeq, int n, float* y, nint yStride)
    {
        int nb = n / QK;
        var q = stackalloc Vector256<byte>[8];
        var scale = stackalloc Vector256<short>[8];
        float* acc = stackalloc float[MaxSeq];
        for (int s = 0; s < nSeq; s++)
            acc[s] = 0;
        var low = Vector256.Create((byte)0x0F);
        for (int i = 0; i < nb; i++)
        {
            byte* xb = w + (nint)i * KQuants.Q6KBytes;
            sbyte* sc = (sbyte*)(xb + 192);
            float d = HalfFloat.ToSingle(xb + 208);
            for (int h = 0; h < 2; h++)
            {
                var l0 = Vector256.Load(xb + 64 * h);
                var l1 = Vector256.Load(xb + 64 * h + 32);
                var hv = Vector256.Load(xb + 128 + 32 * h);
                // Byte-wise shifts done on 16-bit lanes; the masks keep bits from crossing bytes.
                q[4 * h] = (l0 & low) | Vector256.ShiftLeft((hv & Vector256.Create((byte)0x03)).AsUInt16(), 4).AsByte();
                q[4 * h + 1] = (l1 & low) | Vector256.ShiftLeft((hv & Vector256.Create((byte)0x0C)).AsUInt16(), 2).AsByte();
                q[4 * h + 2] = (Vector256.ShiftRightLogical(l0.AsUInt16(), 4).AsByte() & low) | (hv & Vector256.Create((byte)0x30));
                q[4 * h + 3] = (Vector256.ShiftRightLogical(l1.AsUInt16(), 4).AsByte() & low)
                    | Vector256.ShiftRightLogical((hv & Vector256.Create((byte)0xC0)).AsUInt16(), 2).AsByte();
            }
            // 32 quants span two 16-element scales: low 128 bits take the first, high bits the second.
            var sc16 = Avx2.ConvertToVector256Int16(Vector128.Load(sc));
            for (int j = 0; j < 8; j++)
                scale[j] = Vector256.Create(Vector128.Create((short)sc[2 * j]), Vector128.Create((short)sc[2 * j + 1]));
            byte* ah = a + (nint)i * AB;
            for (int s = 0; s < nSeq; s++, ah += aStride)
            {
                byte* qa = ah + 4;
                var sumi = Vector256<int>.Zero;
                for (int j = 0; j < 8; j++)
                    sumi += ScaledDot(q[j], qa + 32 * j, scale[j]);
                // Quants are stored +32: subtract 32 · Σ scale_j · bsum_j.
                int offset = Sum(Avx2.MultiplyAddAdjacent(Vector256.Load((short*)(ah + 260)), sc16));
                float da = Unsafe.ReadUnaligned<float>(ah);
                acc[s] += (da * d) * (Sum(sumi) - 32 * offset);
            }
        }
        for (int s = 0; s < nSeq; s++)
            y[s * yStride] = acc[s];
    }

    public static void Q6KScalar(byte* w, byte* a, nint aStride, int nSeq, int n, float* y, nint yStride)
    {
        int nb = n / QK;
        int* q = stackalloc int[QK];
        float* acc = stackalloc float[MaxSeq];
        for (int s = 0; s < nSeq; s++)
            acc[s] = 0;
        for (int i = 0; i < nb; i++)
        {
            byte* xb = w + (nint)i * KQuants.Q6KBytes;
            sbyte* sc = (sbyte*)(xb + 192);
            float d = HalfFloat.ToSingle(xb + 208);
            for (int e = 0; e < QK; e++)
                q[e] = KQuants.Q6Quant(xb, e) - 32;
            byte* ah = a + (nint)i * AB;
            for (int s = 0; s < nSeq; s++, ah += aStride)
            {
                int isum = 0;
                for (int j = 0; j < 16; j++)
                    isum += sc[j] * SubBlockDot(q, (sbyte*)(ah + 4), j, 16);
                float da = Unsafe.ReadUnaligned<float>(ah);
                acc[s] += (da * d) * isum;
            }
        }
        for (int s = 0; s < nSeq; s++)
            y[s * yStride] = acc[s];
    }
}
