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

    private static void UnpackScales(byte* packed, int* sc, int* mn)
    {
        for (int j = 0; j < 8; j++)
            KQuants.ScaleMin(j, packed, out sc[j], out mn[j]);
    }

    /// <summary>Σ_j min_j · (bsum over sub-block j's 32 activations).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int MinSum(int* mn, byte* act)
    {
        short* bs = (short*)(act + 260);
        int ms = 0;
        for (int j = 0; j < 8; j++)
            ms += mn[j] * (bs[2 * j] + bs[2 * j + 1]);
        return ms;
    }

    public static void Q4KAvx2(byte* w, byte* a, nint aStride, int nSeq, int n, float* y, nint yStride)
        => Q45KAvx2(w, a, aStride, nSeq, n, y, yStride, five: false);

    public static void Q5KAvx2(byte* w, byte* a, nint aStride, int nSeq, int n, float* y, nint yStride)
        => Q45KAvx2(w, a, aStride, nSeq, n, y, yStride, five: true);

    private static void Q45KAvx2(byte* w, byte* a, nint aStride, int nSeq, int n, float* y, nint yStride, bool five)
    {
        int nb = n / QK, wb = five ? KQuants.Q5KBytes : KQuants.Q4KBytes, qOff = five ? 48 : 16;
        float* acc = stackalloc float[MaxSeq];
        var sumi = stackalloc Vector256<int>[MaxSeq];
        int* sc = stackalloc int[8];
        int* mn = stackalloc int[8];
        for (int s = 0; s < nSeq; s++)
            acc[s] = 0;
        var low = Vector256.Create((byte)0x0F);
        for (int i = 0; i < nb; i++)
        {
            byte* xb = w + (nint)i * wb;
            float d = HalfFloat.ToSingle(xb), dmin = HalfFloat.ToSingle(xb + 2);
            UnpackScales(xb + 4, sc, mn);
            var hbits = five ? Vector256.Load(xb + 16) : default;
            for (int s = 0; s < nSeq; s++)
                sumi[s] = Vector256<int>.Zero;
            byte* ablk = a + (nint)i * AB + 4;
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
                var s0 = Vector256.Create((short)sc[2 * k]);
                var s1 = Vector256.Create((short)sc[2 * k + 1]);
                byte* ap = ablk + 64 * k;
                for (int s = 0; s < nSeq; s++, ap += aStride)
                    sumi[s] += ScaledDot(q0, ap, s0) + ScaledDot(q1, ap + 32, s1);
            }
            byte* ah = a + (nint)i * AB;
            for (int s = 0; s < nSeq; s++, ah += aStride)
            {
                float da = Unsafe.ReadUnaligned<float>(ah);
                acc[s] += (da * d) * Sum(sumi[s]) - (da * dmin) * MinSum(mn, ah);
            }
        }
        for (int s = 0; s < nSeq; s++)
            y[s * yStride] = acc[s];
    }

    public static void Q4KScalar(byte* w, byte* a, nint aStride, int nSeq, int n, float* y, nint yStride)
        => Q45KScalar(w, a, aStride, nSeq, n, y, yStride, five: false);

    public static void Q5KScalar(byte* w, byte* a, nint aStride, int nSeq, int n, float* y, nint yStride)
        => Q45KScalar(w, a, aStride, nSeq, n, y, yStride, five: true);

    private static void Q45KScalar(byte* w, byte* a, nint aStride, int nSeq, int n, float* y, nint yStride, bool five)
    {
        int nb = n / QK, wb = five ? KQuants.Q5KBytes : KQuants.Q4KBytes;
        int* q = stackalloc int[QK];
        int* sc = stackalloc int[8];
        int* mn = stackalloc int[8];
        float* acc = stackalloc float[MaxSeq];
        for (int s = 0; s < nSeq; s++)
            acc[s] = 0;
        for (int i = 0; i < nb; i++)
        {
            byte* xb = w + (nint)i * wb;
            float d = HalfFloat.ToSingle(xb), dmin = HalfFloat.ToSingle(xb + 2);
            UnpackScales(xb + 4, sc, mn);
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
                sbyte* qa = (sbyte*)(ah + 4);
                int isum = 0;
                for (int j = 0; j < 8; j++)
                {
                    int part = 0;
                    for (int l = 0; l < 32; l++)
                        part += q[32 * j + l] * qa[32 * j + l];
                    isum += sc[j] * part;
                }
                float da = Unsafe.ReadUnaligned<float>(ah);
                acc[s] += (da * d) * isum - (da * dmin) * MinSum(mn, ah);
            }
        }
        for (int s = 0; s < nSeq; s++)
            y[s * yStride] = acc[s];
    }

    /// <summary>Σ_j scale_j · bsum_j: the quants are stored +32, so 32× this is subtracted.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Q6Offset(sbyte* sc, byte* act)
    {
        short* bs = (short*)(act + 260);
        int t = 0;
        for (int j = 0; j < 16; j++)
            t += sc[j] * bs[j];
        return t;
    }

    public static void Q6KAvx2(byte* w, byte* a, nint aStride, int nSeq, int n, float* y, nint yStride)
    {
        int nb = n / QK;
        float* acc = stackalloc float[MaxSeq];
        var sumi = stackalloc Vector256<int>[MaxSeq];
        for (int s = 0; s < nSeq; s++)
            acc[s] = 0;
        var low = Vector256.Create((byte)0x0F);
        for (int i = 0; i < nb; i++)
        {
            byte* xb = w + (nint)i * KQuants.Q6KBytes;
            sbyte* sc = (sbyte*)(xb + 192);
            float d = HalfFloat.ToSingle(xb + 208);
            for (int s = 0; s < nSeq; s++)
                sumi[s] = Vector256<int>.Zero;
            for (int h = 0; h < 2; h++)
            {
                var l0 = Vector256.Load(xb + 64 * h);
                var l1 = Vector256.Load(xb + 64 * h + 32);
                var hv = Vector256.Load(xb + 128 + 32 * h);
                // Byte-wise shifts done on 16-bit lanes; the masks keep bits from crossing bytes.
                var q0 = (l0 & low) | Vector256.ShiftLeft((hv & Vector256.Create((byte)0x03)).AsUInt16(), 4).AsByte();
                var q1 = (l1 & low) | Vector256.ShiftLeft((hv & Vector256.Create((byte)0x0C)).AsUInt16(), 2).AsByte();
                var q2 = (Vector256.ShiftRightLogical(l0.AsUInt16(), 4).AsByte() & low) | (hv & Vector256.Create((byte)0x30));
                var q3 = (Vector256.ShiftRightLogical(l1.AsUInt16(), 4).AsByte() & low)
                    | Vector256.ShiftRightLogical((hv & Vector256.Create((byte)0xC0)).AsUInt16(), 2).AsByte();
                sbyte* sh = sc + 8 * h;
                var s0 = Vector256.Create(Vector128.Create((short)sh[0]), Vector128.Create((short)sh[1]));
                var s1 = Vector256.Create(Vector128.Create((short)sh[2]), Vector128.Create((short)sh[3]));
                var s2 = Vector256.Create(Vector128.Create((short)sh[4]), Vector128.Create((short)sh[5]));
                var s3 = Vector256.Create(Vector128.Create((short)sh[6]), Vector128.Create((short)sh[7]));
                byte* ap = a + (nint)i * AB + 4 + 128 * h;
                for (int s = 0; s < nSeq; s++, ap += aStride)
                    sumi[s] += (ScaledDot(q0, ap, s0) + ScaledDot(q1, ap + 32, s1))
                        + (ScaledDot(q2, ap + 64, s2) + ScaledDot(q3, ap + 96, s3));
            }
            byte* ah = a + (nint)i * AB;
            for (int s = 0; s < nSeq; s++, ah += aStride)
            {
                float da = Unsafe.ReadUnaligned<float>(ah);
                acc[s] += (da * d) * (Sum(sumi[s]) - 32 * Q6Offset(sc, ah));
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
                sbyte* qa = (sbyte*)(ah + 4);
                int isum = 0;
                for (int j = 0; j < 16; j++)
                {
                    int part = 0;
                    for (int l = 0; l < 16; l++)
                        part += q[16 * j + l] * qa[16 * j + l];
                    isum += sc[j] * part;
                }
                float da = Unsafe.ReadUnaligned<float>(ah);
                acc[s] += (da * d) * isum;
            }
        }
        for (int s = 0; s < nSeq; s++)
            y[s * yStride] = acc[s];
    }
}
