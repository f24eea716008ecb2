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
    /// <summary>Above this the result is a normal float (e^-87.3 > 2^-126), so 2^k scales through the exponent bits.</summary>
    public const float NormalMin = -87.3f;

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

    /// <summary>
    /// <see cref="Exp"/> of two vectors at once, for a caller that masks arguments below <see cref="NormalMin"/>
    /// and never passes NaN: each lane at or above <see cref="NormalMin"/> comes out with <see cref="Exp"/>'s
    /// bits, a lower one as e^-87.3 (under 2^-125.9) instead of 0, and NaN as no promised value. The two
    /// computations are written step by step side by side: one alone is a chain of a dozen dependent
    /// operations that the processor's scheduler cannot hold enough of to overlap, and its masks for NaN
    /// and underflow are four of its twenty-odd instructions.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<float> X, Vector256<float> Y) ExpPair(Vector256<float> x, Vector256<float> y)
    {
        x = Vector256.MaxNative(x, Vector256.Create(NormalMin));
        y = Vector256.MaxNative(y, Vector256.Create(NormalMin));
        var tx = Vector256.FusedMultiplyAdd(x, Vector256.Create(Log2E), Vector256.Create(RoundMagic));
        var ty = Vector256.FusedMultiplyAdd(y, Vector256.Create(Log2E), Vector256.Create(RoundMagic));
        var kx = tx - Vector256.Create(RoundMagic);
        var ky = ty - Vector256.Create(RoundMagic);
        var rx = Vector256.FusedMultiplyAdd(kx, Vector256.Create(-Ln2Hi), x);
        var ry = Vector256.FusedMultiplyAdd(ky, Vector256.Create(-Ln2Hi), y);
        rx = Vector256.FusedMultiplyAdd(kx, Vector256.Create(-Ln2Lo), rx);
        ry = Vector256.FusedMultiplyAdd(ky, Vector256.Create(-Ln2Lo), ry);
        var qx = Vector256.FusedMultiplyAdd(Vector256.Create(1.9875691500e-4f), rx, Vector256.Create(1.3981999507e-3f));
        var qy = Vector256.FusedMultiplyAdd(Vector256.Create(1.9875691500e-4f), ry, Vector256.Create(1.3981999507e-3f));
        qx = Vector256.FusedMultiplyAdd(qx, rx, Vector256.Create(8.3334519073e-3f));
        qy = Vector256.FusedMultiplyAdd(qy, ry, Vector256.Create(8.3334519073e-3f));
        qx = Vector256.FusedMultiplyAdd(qx, rx, Vector256.Create(4.1665795894e-2f));
        qy = Vector256.FusedMultiplyAdd(qy, ry, Vector256.Create(4.1665795894e-2f));
        qx = Vector256.FusedMultiplyAdd(qx, rx, Vector256.Create(1.6666665459e-1f));
        qy = Vector256.FusedMultiplyAdd(qy, ry, Vector256.Create(1.6666665459e-1f));
        qx = Vector256.FusedMultiplyAdd(qx, rx, Vector256.Create(5.0000001201e-1f));
        qy = Vector256.FusedMultiplyAdd(qy, ry, Vector256.Create(5.0000001201e-1f));
        var px = Vector256.FusedMultiplyAdd(qx, rx * rx, rx) + Vector256<float>.One;
        var py = Vector256.FusedMultiplyAdd(qy, ry * ry, ry) + Vector256<float>.One;
        return ((px.AsInt32() + (tx.AsInt32() << 23)).AsSingle(), (py.AsInt32() + (ty.AsInt32() << 23)).AsSingle());
    }
}
