using System.Runtime.CompilerServices;

namespace Kiln.Engine.Tensors;

/// <summary>
/// Reference quantizers for the K formats, following ggml's quantize_row_q{4,5,6,8}_K_ref: a weighted
/// scale/min search per sub-block, then 6-bit (Q4_K/Q5_K) or 8-bit (Q6_K) scales against one half scale.
/// </summary>
internal static unsafe class KQuantize
{
    private const float GroupMaxEps = 1e-15f;

    /// <summary>ggml's nearest_int: round half to even.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int NearestInt(float v) => (int)MathF.Round(v);

    public static void QuantQ4_K(float* x, byte* dst, int nb) => QuantQ45K(x, dst, nb, false);

    public static void QuantQ5_K(float* x, byte* dst, int nb) => QuantQ45K(x, dst, nb, true);

    private static void QuantQ45K(float* x, byte* dst, int nb, bool five)
    {
        int nmax = five ? 31 : 15;
        int blockBytes = five ? KQuants.Q5KBytes : KQuants.Q4KBytes;
        byte* L = stackalloc byte[KQuants.QK];
        byte* laux = stackalloc byte[32];
        float* weights = stackalloc float[32];
        float* mins = stackalloc float[8];
        float* scales = stackalloc float[8];
        for (int i = 0; i < nb; i++, x += KQuants.QK, dst += blockBytes)
        {
            new Span<byte>(dst, blockBytes).Clear();
            float maxScale = 0, maxMin = 0;
            for (int j = 0; j < 8; j++)
            {
                float* xb = x + 32 * j;
                float sumX2 = 0;
                for (int l = 0; l < 32; l++)
                    sumX2 += xb[l] * xb[l];
                float avX = MathF.Sqrt(sumX2 / 32);
                for (int l = 0; l < 32; l++)
                    weights[l] = avX + MathF.Abs(xb[l]);
                scales[j] = five
                    ? MakeQkx2Quants(32, nmax, xb, weights, L + 32 * j, out mins[j], laux, -0.5f, 0.1f, 15)
                    : MakeQkx2Quants(32, nmax, xb, weights, L + 32 * j, out mins[j], laux, -1f, 0.1f, 20);
                if (scales[j] > maxScale) maxScale = scales[j];
                if (mins[j] > maxMin) maxMin = mins[j];
            }
            float invScale = maxScale > 0 ? 63f / maxScale : 0f;
            float invMin = maxMin > 0 ? 63f / maxMin : 0f;
            byte* packed = dst + 4;
            for (int j = 0; j < 8; j++)
            {
                int ls = Math.Min(63, NearestInt(invScale * scales[j]));
                int lm = Math.Min(63, NearestInt(invMin * mins[j]));
                if (j < 4)
                {
                    packed[j] = (byte)ls;
                    packed[j + 4] = (byte)lm;
                }
                else
                {
                    packed[j + 4] = (byte)((ls & 0xF) | ((lm & 0xF) << 4));
                    packed[j - 4] |= (byte)((ls >> 4) << 6);
                    packed[j] |= (byte)((lm >> 4) << 6);
                }
            }
            ushort dh = HalfFloat.FromSingle(maxScale / 63f), dminh = HalfFloat.FromSingle(maxMin / 63f);
            Unsafe.WriteUnaligned(dst, dh);
            Unsafe.WriteUnaligned(dst + 2, dminh);
            float dAll = HalfFloat.ToSingle(dh), dminAll = HalfFloat.ToSingle(dminh);
            for (int j = 0; j < 8; j++)
            {
                KQuants.ScaleMin(j, packed, out int sc, out int m);
                float d = dAll * sc;
                if (d == 0) continue;
                float dm = dminAll * m;
                for (int l = 0; l < 32; l++)
                    L[32 * j + l] = (byte)Math.Clamp(NearestInt((x[32 * j + l] + dm) / d), 0, nmax);
            }
            if (five)
            {
                byte* qh = dst + 16, ql = dst + 48;
                for (int n = 0, shift = 0; n < KQuants.QK; n += 64, shift += 2, ql += 32)
                {
                    for (int l = 0; l < 32; l++)
                    {
                        int l1 = L[n + l], l2 = L[n + l + 32];
                        if (l1 > 15) { l1 -= 16; qh[l] |= (byte)(1 << shift); }
                        if (l2 > 15) { l2 -= 16; qh[l] |= (byte)(2 << shift); }
                        ql[l] = (byte)(l1 | (l2 << 4));
                    }
                }
            }
            else
            {
                byte* q = dst + 16;
                for (int n = 0; n < KQuants.QK; n += 64, q += 32)
                    for (int l = 0; l < 32; l++)
                        q[l] = (byte)(L[n + l] | (L[n + l + 32] << 4));
            }
        }
    }

    /// <summary>
    /// Weighted least-squares fit of x ≈ scale*L + min with L in [0,nmax], trying nstep+1 candidate
    /// inverse scales; returns the scale and the negated min (ggml's make_qkx2_quants, squared error).
    /// </summary>
    private static float MakeQkx2Quants(int n, int nmax, float* x, float* weights, byte* L, out float theMin,
        byte* laux, float rmin, float rdelta, int nstep)
    {
        float min = x[0], max = x[0];
        float sumW = weights[0], sumX = sumW * x[0];
        for (int i = 1; i < n; i++)
        {
            if (x[i] < min) min = x[i];
            if (x[i] > max) max = x[i];
            float w = weights[i];
            sumW += w;
            sumX += w * x[i];
        }
        if (min > 0) min = 0;
        if (max == min)
        {
            for (int i = 0; i < n; i++) L[i] = 0;
            theMin = -min;
            return 0f;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; i++)
        {
            int l = Math.Clamp(NearestInt(iscale * (x[i] - min)), 0, nmax);
            L[i] = (byte)l;
            float diff = scale * l + min - x[i];
            bestError += weights[i] * (diff * diff);
        }
        for (int step = 0; step <= nstep; step++)
        {
            iscale = (rmin + rdelta * step + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXL = 0;
            for (int i = 0; i < n; i++)
            {
                int l = Math.Clamp(NearestInt(iscale * (x[i] - min)), 0, nmax);
                laux[i] = (byte)l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXL += w * l * x[i];
            }
            float D = sumW * sumL2 - sumL * sumL;
            if (D > 0)
            {
                float thisScale = (sumW * sumXL - sumX * sumL) / D;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / D;
                if (thisMin > 0)
                {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float curError = 0;
                for (int i = 0; i < n; i++)
                {
                    float diff = thisScale * laux[i] + thisMin - x[i];
                    curError += weights[i] * (diff * diff);
                }
                if (curError < bestError)
                {
                    for (int i = 0; i < n; i++) L[i] = laux[i];
                    bestError = curError;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        theMin = -min;
        return scale;
    }

    public static void QuantQ6_K(float* x, byte* dst, int nb)
    {
        sbyte* L = stackalloc sbyte[KQuants.QK];
        float* scales = stackalloc float[16];
        for (int i = 0; i < nb; i++, x += KQuants.QK, dst += KQuants.Q6KBytes)
        {
            new Span<byte>(dst, KQuants.Q6KBytes).Clear();
            float maxScale = 0, maxAbsScale = 0;
            for (int ib = 0; ib < 16; ib++)
            {
                float scale = MakeQxQuants(16, 32, x + 16 * ib, L + 16 * ib);
                scales[ib] = scale;
                float abs = MathF.Abs(scale);
                if (abs > maxAbsScale) { maxAbsScale = abs; maxScale = scale; }
            }
            if (maxAbsScale < GroupMaxEps)
                continue;
            float iscale = -128f / maxScale;
            ushort dh = HalfFloat.FromSingle(1 / iscale);
            Unsafe.WriteUnaligned(dst + 208, dh);
            sbyte* sc = (sbyte*)(dst + 192);
            for (int ib = 0; ib < 16; ib++)
                sc[ib] = (sbyte)Math.Min(127, NearestInt(iscale * scales[ib]));
            float dAll = HalfFloat.ToSingle(dh);
            for (int j = 0; j < 16; j++)
            {
                float d = dAll * sc[j];
                if (d == 0) continue;
                for (int l = 0; l < 16; l++)
                    L[16 * j + l] = (sbyte)(Math.Clamp(NearestInt(x[16 * j + l] / d), -32, 31) + 32);
            }
            byte* ql = dst, qh = dst + 128;
            for (int j = 0; j < KQuants.QK; j += 128, ql += 64, qh += 32)
            {
                for (int l = 0; l < 32; l++)
                {
                    int q1 = L[j + l], q2 = L[j + l + 32], q3 = L[j + l + 64], q4 = L[j + l + 96];
                    ql[l] = (byte)((q1 & 0xF) | ((q3 & 0xF) << 4));
                    ql[l + 32] = (byte)((q2 & 0xF) | ((q4 & 0xF) << 4));
                    qh[l] = (byte)((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
                }
            }
        }
    }

    /// <summary>
    /// Symmetric fit x ≈ scale*(L-nmax) weighted by x², searching 18 nearby inverse scales
    /// (ggml's make_qx_quants with rmse_type 1, no importance weights). L holds values in [0, 2*nmax).
    /// </summary>
    private static float MakeQxQuants(int n, int nmax, float* x, sbyte* L)
    {
        float max = 0, amax = 0;
        for (int i = 0; i < n; i++)
        {
            float ax = MathF.Abs(x[i]);
            if (ax > amax) { amax = ax; max = x[i]; }
        }
        if (amax < GroupMaxEps)
        {
            for (int i = 0; i < n; i++) L[i] = 0;
            return 0f;
        }
        float iscale = -nmax / max;
        float sumLX = 0, sumL2 = 0;
        for (int i = 0; i < n; i++)
        {
            int l = Math.Clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1);
            L[i] = (sbyte)(l + nmax);
            float w = x[i] * x[i];
            sumLX += w * x[i] * l;
            sumL2 += w * l * l;
        }
        float scale = sumL2 != 0 ? sumLX / sumL2 : 0f;
        float best = scale * sumLX;
        for (int step = -9; step <= 9; step++)
        {
            if (step == 0) continue;
            iscale = -(nmax + 0.1f * step) / max;
            sumLX = sumL2 = 0;
            for (int i = 0; i < n; i++)
            {
                int l = Math.Clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1);
                float w = x[i] * x[i];
                sumLX += w * x[i] * l;
                sumL2 += w * l * l;
            }
            if (sumL2 > 0 && sumLX * sumLX > best * sumL2)
            {
                for (int i = 0; i < n; i++)
                    L[i] = (sbyte)(nmax + Math.Clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1));
                scale = sumLX / sumL2;
                best = scale * sumLX;
            }
        }
        return scale;
    }

    /// <summary>
    /// Q8_K as ggml's quantize_row_q8_K_ref: the largest-magnitude value maps to -127, d = 1/iscale kept
    /// as float, and bsums hold the sum of each 16 quants (the K dots use them for min/offset terms).
    /// </summary>
    public static void QuantQ8_K(float* x, byte* dst, int nb)
    {
        for (int i = 0; i < nb; i++, x += KQuants.QK, dst += KQuants.Q8KBytes)
        {
            float max = 0, amax = 0;
            for (int j = 0; j < KQuants.QK; j++)
            {
                float ax = MathF.Abs(x[j]);
                if (ax > amax) { amax = ax; max = x[j]; }
            }
            sbyte* qs = (sbyte*)(dst + 4);
            short* bsums = (short*)(dst + 260);
            if (amax == 0)
            {
                new Span<byte>(dst, KQuants.Q8KBytes).Clear();
                continue;
            }
            float iscale = -127f / max;
            for (int j = 0; j < KQuants.QK; j++)
                qs[j] = (sbyte)Math.Min(127, NearestInt(iscale * x[j]));
            for (int j = 0; j < 16; j++)
            {
                int sum = 0;
                for (int l = 0; l < 16; l++)
                    sum += qs[16 * j + l];
                Unsafe.WriteUnaligned(bsums + j, (short)sum);
            }
            Unsafe.WriteUnaligned(dst, 1 / iscale);
        }
    }
}
