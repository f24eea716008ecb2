using Kiln.Engine.Sampling;
using Kiln.Engine.Serving.Speculation;

namespace Kiln.Engine.Tests.Serving.Speculation;

/// <summary>
/// The kept-or-replaced token follows the target distribution p whatever the draft's q is: checked
/// by a chi-square test over many seeded trials on a small vocabulary.
/// </summary>
public class SpeculativeSamplingTests
{
    private const int Trials = 200_000;

    // Chi-square quantile at 0.999 for 5 degrees of freedom: a correct sampler fails once in a thousand
    // seeds, and the seed is fixed.
    private const double Critical5 = 20.52;

    private static readonly float[] P = [0.05f, 0.30f, 0.10f, 0.25f, 0.20f, 0.10f];

    [Theory]
    [InlineData(new[] { 0.40f, 0.05f, 0.05f, 0.10f, 0.20f, 0.20f })]
    [InlineData(new[] { 0.05f, 0.30f, 0.10f, 0.25f, 0.20f, 0.10f })]
    [InlineData(new[] { 0f, 0f, 0.5f, 0f, 0f, 0.5f })]
    public void A_sampled_draft_kept_or_replaced_follows_the_target(float[] q)
    {
        var rng = new Xoshiro256(7);
        var counts = new long[P.Length];
        for (var t = 0; t < Trials; t++)
        {
            var x = SpeculativeSampling.Draw(q, rng.NextDouble());
            var token = SpeculativeSampling.Accepts(P, q, x, rng.NextDouble()) ? x : SpeculativeSampling.Residual(P, q, x, rng.NextDouble());
            counts[token]++;
        }
        AssertFollows(P, counts);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4)]
    public void A_point_mass_proposal_kept_or_replaced_follows_the_target(int x)
    {
        var rng = new Xoshiro256(11);
        var counts = new long[P.Length];
        for (var t = 0; t < Trials; t++)
        {
            var token = SpeculativeSampling.Accepts(P, [], x, rng.NextDouble()) ? x : SpeculativeSampling.Residual(P, [], x, rng.NextDouble());
            counts[token]++;
        }
        AssertFollows(P, counts);
    }

    [Fact]
    public void Keeping_every_draft_would_fail_the_same_test()
    {
        // The test has teeth: the draft's own distribution is far from p.
        float[] q = [0.40f, 0.05f, 0.05f, 0.10f, 0.20f, 0.20f];
        var rng = new Xoshiro256(7);
        var counts = new long[P.Length];
        for (var t = 0; t < Trials; t++) counts[SpeculativeSampling.Draw(q, rng.NextDouble())]++;
        Assert.True(ChiSquare(P, counts) > Critical5);
    }

    [Fact]
    public void A_greedy_target_keeps_only_its_argmax_and_replaces_anything_else_by_it()
    {
        float[] p = [0f, 0f, 1f, 0f];
        float[] q = [0.7f, 0.1f, 0.1f, 0.1f];
        for (var u = 0.0; u < 1; u += 0.125)
        {
            Assert.True(SpeculativeSampling.Accepts(p, q, 2, u));
            Assert.True(SpeculativeSampling.Accepts(p, [], 2, u));
            Assert.False(SpeculativeSampling.Accepts(p, q, 0, u));
            Assert.False(SpeculativeSampling.Accepts(p, [], 3, u));
            Assert.Equal(2, SpeculativeSampling.Residual(p, q, 0, u));
            Assert.Equal(2, SpeculativeSampling.Residual(p, [], 3, u));
        }
    }

    internal static void AssertFollows(ReadOnlySpan<float> p, long[] counts)
    {
        var chi = ChiSquare(p, counts);
        Assert.True(chi < Critical5, $"chi-square {chi:F1} over {counts.Sum()} draws: counts {string.Join(",", counts)}");
    }

    private static double ChiSquare(ReadOnlySpan<float> p, long[] counts)
    {
        double n = counts.Sum(), chi = 0;
        for (var i = 0; i < p.Length; i++)
        {
            var expected = n * p[i];
            if (expected == 0)
            {
                Assert.Equal(0, counts[i]);
                continue;
            }
            chi += (counts[i] - expected) * (counts[i] - expected) / expected;
        }
        return chi;
    }
}
