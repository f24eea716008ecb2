using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Engine.Sampling;

/// <summary>
/// Eight exponentials of floats at a time, each bit-identical to <see cref="MathF.Exp"/>. exp is computed
/// in double (relative error below 2^-37) and rounded to float; that rounding agrees with any expf within
/// 0.502 ulp (glibc documents 0.502) unless the double lies within 1/256 ulp of a float rounding midpoint,
/// and those lanes (under 1%), subnormal results and arguments outside [-104, 88] take the scalar
/// <see cref="MathF.Exp"/>. The premise rests on the platform's libm, so <see cref="IsExact"/> checks it
/// against <see cref="MathF.Exp"/> on first use; callers keep their scalar path for when it is false.
/// </summary>
internal static class ExactExp
{
    private const double InvLn2 = 1.4426950408889634;
    private const double Ln2Hi = 0.6931471805599453;
    private const double Ln2Lo = 2.3190468138462996e-17;
    // Adding 1.5 * 2^52 rounds a double of magnitude below 2^51 to an integer held in its low bits.
    private const double RoundMagic = 6755399441055744.0;
    // Below this every result rounds to zero (e^-104 < 2^-150, half the least subnormal).
    private const float Underflow = -104f;
    // Below this the result is subnormal (e^-87.33 = 2^-126) and rounds at another bit: scalar.
    private const float NormalMin = -87.3f;
    private const float Overflow = 88f;
    // A double's 29 bits below a float's mantissa; the midpoint is 2^28, the band 2^21 either side (1/256 ulp).
    private const long LowMask = (1L << 29) - 1;
    private const long Band = 1L << 21;

    /// <summary>True when <see cref="Exp"/> runs vectorised and matched <see cref="MathF.Exp"/> on every input checked.</summary>
    public static bool IsExact { get; } = Vector256.IsHardwareAccelerated && Fma.IsSupported && SelfCheck();

    /// <summary>exp of each lane, bit-identical to <see cref="MathF.Exp"/> (assuming <see cref="IsExact"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> a)
    {
        var (lo, hi) = Vector256.Widen(a);
        var elo = ExpDouble(lo);
        var ehi = ExpDouble(hi);
        var f = Vector256.Narrow(elo, ehi);
        var hard = NearMidpoint(elo) | NearMidpoint(ehi) << 4;
        // NaN fails both comparisons and is left to the scalar path.
        var inRange = Vector256.GreaterThanOrEqual(a, Vector256.Create(NormalMin)) & Vector256.LessThanOrEqual(a, Vector256.Create(Overflow));
        var zero = Vector256.LessThan(a, Vector256.Create(Underflow));
        hard |= ~(inRange | zero).ExtractMostSignificantBits() & 0xFF;
        f = Vector256.AndNot(f, zero);
        return hard == 0 ? f : Fix(f, a, hard);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Vector256<float> Fix(Vector256<float> f, Vector256<float> a, uint hard)
    {
        while (hard != 0)
        {
            var lane = BitOperations.TrailingZeroCount(hard);
            f = f.WithElement(lane, MathF.Exp(a.GetElement(lane)));
            hard &= hard - 1;
        }
        return f;
    }

    /// <summary>The lanes whose value lies within <see cref="Band"/> of a float rounding midpoint, as bits 0-3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint NearMidpoint(Vector256<double> e)
    {
        var low = (e.AsInt64() + Vector256.Create(Band - (1L << 28))) & Vector256.Create(LowMask);
        return Vector256.LessThan(low, Vector256.Create(2 * Band)).ExtractMostSignificantBits();
    }

    /// <summary>
    /// exp(x) for x in [-104, 88]: x = k ln2 + r with |r| &lt;= ln2/2, the Taylor polynomial of degree 9
    /// in r (truncation below 2^-37 relative), times 2^k through the exponent bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> ExpDouble(Vector256<double> x)
    {
        // Lanes outside the range are replaced by the caller; clamping keeps 2^k finite.
        x = Vector256.Min(Vector256.Max(x, Vector256.Create(-105.0)), Vector256.Create(89.0));
        var t = Vector256.FusedMultiplyAdd(x, Vector256.Create(InvLn2), Vector256.Create(RoundMagic));
        var k = t - Vector256.Create(RoundMagic);
        var r = Vector256.FusedMultiplyAdd(k, Vector256.Create(-Ln2Hi), x);
        r = Vector256.FusedMultiplyAdd(k, Vector256.Create(-Ln2Lo), r);
        var p = Vector256.Create(1.0 / 362880);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0 / 40320));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0 / 5040));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0 / 720));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0 / 120));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0 / 24));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0 / 6));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(0.5));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256<double>.One);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256<double>.One);
        // The low bits of t hold k; shifted into the exponent field they scale p by 2^k.
        return (p.AsUInt64() + (t.AsUInt64() << 52)).AsDouble();
    }

    /// <summary>
    /// Compares with <see cref="MathF.Exp"/> on a random sample of [-20, 0] (the bulk of the sampler's
    /// arguments) and of [-110, 90], and on the edges (zeros, the underflow and subnormal bounds, infinities, NaN).
    /// </summary>
    internal static bool SelfCheck()
    {
        var inputs = new float[1 << 17];
        var n = 0;
        var rng = new Xoshiro256(0x6b696c6e);
        while (n < inputs.Length / 2) inputs[n++] = (float)(-20 * rng.NextDouble());
        while (n < inputs.Length - 16) inputs[n++] = (float)(-110 + 200 * rng.NextDouble());
        float[] edges = [0f, -0f, Underflow, NormalMin, Overflow, -103.972f, -103.9721f, -87.33655f, 88.72283f, float.NegativeInfinity, float.PositiveInfinity, float.NaN, -1e-30f, float.Epsilon, -float.Epsilon, 1f];
        foreach (var e in edges) inputs[n++] = e;
        return Matches(inputs.AsSpan(0, n));
    }

    /// <summary>Whether <see cref="Exp"/> gives <see cref="MathF.Exp"/>'s bits for every input (the tail padded to eight).</summary>
    internal static bool Matches(ReadOnlySpan<float> inputs)
    {
        Span<float> lanes = stackalloc float[Vector256<float>.Count];
        for (var i = 0; i < inputs.Length; i += lanes.Length)
        {
            lanes.Clear();
            inputs.Slice(i, Math.Min(lanes.Length, inputs.Length - i)).CopyTo(lanes);
            var e = Exp(Vector256.Create<float>(lanes));
            for (var j = 0; j < lanes.Length; j++)
                if (BitConverter.SingleToUInt32Bits(e[j]) != BitConverter.SingleToUInt32Bits(MathF.Exp(lanes[j]))) return false;
        }
        return true;
    }
}
