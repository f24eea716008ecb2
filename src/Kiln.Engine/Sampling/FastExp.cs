using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Engine.Sampling;

/// <summary>
/// Eight exponentials of non-positive floats at a time, in float throughout: about half the work of
/// <see cref="Vector256.Exp(Vector256{float})"/>, which widens to double. At most 2^-23 from
/// <see cref="MathF.Exp"/>, relative, on every float from 0 to -110 (checked one by one); the tests hold it
/// to that bound and <see cref="SoftmaxKernels.ExpTolerance"/> allows 2^-22. Results below 2^-126 (arguments
/// under -87.3) are flushed to zero: they weigh nothing next to the top token's exp(0) = 1.
/// </summary>
internal static class FastExp
{
    private const float Log2E = 1.44269504f;
    // ln 2 in two parts (Cephes'): k * Ln2Hi is exact for every k here, Ln2Lo carries the rest.
    private const float Ln2Hi = 0.693359375f;
    private const float Ln2Lo = -2.12194440e-4f;
    // Adding 1.5 * 2^23 rounds a float of magnitude below 2^22 to an integer held in its low bits.
    private const float RoundMagic = 12582912f;
    // Above this the result is a normal float (e^-87.3 > 2^-126), so 2^k scales through the exponent bits.
    private const float NormalMin = -87.3f;

    /// <summary>exp of each lane; arguments must be at or below 0 (the sampler's (x - max) / T always are).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        // -inf and arguments whose result would be subnormal become 0; NaN stays NaN (as in MathF.Exp, so
        // a +inf logit, whose argument is inf - inf, leaves every tier as undecided as it did before).
        var zero = Vector256.LessThan(x, Vector256.Create(NormalMin));
        var nan = ~Vector256.Equals(x, x);
        x = Vector256.MaxNative(x, Vector256.Create(NormalMin));
        var t = Vector256.FusedMultiplyAdd(x, Vector256.Create(Log2E), Vector256.Create(RoundMagic));
        var k = t - Vector256.Create(RoundMagic);
        var r = Vector256.FusedMultiplyAdd(k, Vector256.Create(-Ln2Hi), x);
        r = Vector256.FusedMultiplyAdd(k, Vector256.Create(-Ln2Lo), r);
        // e^r - 1 - r on |r| <= ln2 / 2 by the minimax polynomial of Cephes' expf, then 1 added last.
        var q = Vector256.Create(1.9875691500e-4f);
        q = Vector256.FusedMultiplyAdd(q, r, Vector256.Create(1.3981999507e-3f));
        q = Vector256.FusedMultiplyAdd(q, r, Vector256.Create(8.3334519073e-3f));
        q = Vector256.FusedMultiplyAdd(q, r, Vector256.Create(4.1665795894e-2f));
        q = Vector256.FusedMultiplyAdd(q, r, Vector256.Create(1.6666665459e-1f));
        q = Vector256.FusedMultiplyAdd(q, r, Vector256.Create(5.0000001201e-1f));
        var p = Vector256.FusedMultiplyAdd(q, r * r, r) + Vector256<float>.One;
        // The low bits of t hold k; shifted into the exponent field they scale p by 2^k.
        var scaled = (p.AsInt32() + (t.AsInt32() << 23)).AsSingle();
        return Vector256.AndNot(scaled, zero) | nan;
    }
}
