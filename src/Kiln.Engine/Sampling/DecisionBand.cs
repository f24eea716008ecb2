namespace Kiln.Engine.Sampling;

/// <summary>
/// How far a running sum must stay from the fraction q of its total (top_p's cut, a draw r) for weights
/// computed another way than the reference's to make the same comparison. With P the running sum and T
/// the total, P against qT is the sign of (1 - q)P - q(T - P), and the weights before the boundary and
/// after it each carry their own error: a relative error e per weight moves it by at most
/// e((1 - q)P + q(T - P)). At top_p's cut (P near 0.95 T) that is a tenth of eT, at a draw 2r(1 - r)eT;
/// the sum and the target bounded apart would allow about 2eT. Summation order adds
/// <see cref="RoundingPerTerm"/> of the total per weight.
/// </summary>
internal readonly record struct DecisionBand(double PerWeight, double Rounding)
{
    // Any summation order of n nonnegative floats in double is within (n - 1) * 2^-53 of the total
    // of the exact sum (Higham's gamma bound), so two orders differ by 2n * 2^-53. The target
    // (top_p times a total) and the draw (r times a total) add one such difference, and the
    // reference's sequential subtraction of the draw another n * 2^-53: 4n * 2^-53 in all.
    // Twice that, per summand, as a fraction of the total:
    public const double RoundingPerTerm = 8.0 / (1L << 53);

    /// <summary>
    /// Weights from <see cref="FastExp"/> (pairs added in float included): within
    /// <see cref="SoftmaxKernels.ExpTolerance"/> each, with a quarter more to spare; <paramref name="n"/> terms.
    /// </summary>
    public static DecisionBand Fast(int n) => new(1.25 * SoftmaxKernels.ExpTolerance, RoundingPerTerm * n);

    /// <summary><see cref="MathF.Exp"/>'s own weights summed in another order: rounding only.</summary>
    public static DecisionBand Exact(int n) => new(0, RoundingPerTerm * n);

    /// <summary>The band around the fraction <paramref name="q"/> of <paramref name="total"/> for a running sum of <paramref name="prefix"/>.</summary>
    public double Around(double prefix, double total, double q) =>
        PerWeight * ((1 - q) * prefix + q * Math.Max(total - prefix, 0)) + Rounding * total;
}
