using Kiln.Engine.Sampling;

namespace Kiln.Engine.Tests.Sampling;

public class DecisionBandTests
{
    private const double E = SoftmaxKernels.ExpTolerance;

    [Fact]
    public void A_comparison_outside_the_band_survives_each_side_moved_by_its_weights_error()
    {
        // The running sum P and the rest R of a total, each off by up to E of itself in either direction
        // (every weight off the same way, the worst case): whatever the computed sums make of P against
        // q(P + R) outside the band is what the exact sums make of it.
        var band = DecisionBand.Fast(32_000);
        var rng = new Random(11);
        var decided = 0;
        for (var c = 0; c < 200_000; c++)
        {
            var total = Math.Exp(rng.NextDouble() * 20 - 10);
            var q = rng.NextDouble();
            // Exact sums within a few bands of the boundary, where the decision is at stake.
            var prefix = q * total * (1 + (rng.NextDouble() - 0.5) * 8 * E);
            var rest = total - prefix;
            var p = prefix * (1 + E * (rng.Next(3) - 1));
            var t = p + rest * (1 + E * (rng.Next(3) - 1));
            var below = p < q * t - band.Around(p, t, q);
            var above = p > q * t + band.Around(p, t, q);
            if (below) Assert.True(prefix < q * total, $"case {c}: computed below, exact not");
            if (above) Assert.True(prefix > q * total, $"case {c}: computed above, exact not");
            if (below || above) decided++;
        }
        // A band no narrower than the whole total's error would decide far fewer of these.
        Assert.InRange(decided, 100_000, 200_000);
    }

    [Fact]
    public void The_band_is_the_two_sides_errors_weighted_by_the_fraction()
    {
        var band = new DecisionBand(E, 0);
        // top_p 0.95's cut: the running sum near 0.95 of the total, the band a tenth of E x total.
        Assert.Equal(E * (0.05 * 95 + 0.95 * 5), band.Around(95, 100, 0.95), 1e-18);
        // A draw in the middle: half of E x total; at either end, nothing from the side that is empty.
        Assert.Equal(E * 50, band.Around(50, 100, 0.5), 1e-18);
        Assert.Equal(0, band.Around(0, 100, 0));
        Assert.Equal(0, band.Around(100, 100, 1));
        // Summation order's share grows with the number of weights and the total.
        Assert.Equal(DecisionBand.RoundingPerTerm * 1000 * 100, DecisionBand.Exact(1000).Around(40, 100, 0.3), 1e-24);
    }
}
