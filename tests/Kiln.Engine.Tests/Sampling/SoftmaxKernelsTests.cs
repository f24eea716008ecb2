using System.Runtime.Intrinsics;
using Kiln.Engine.Sampling;

namespace Kiln.Engine.Tests.Sampling;

public class SoftmaxKernelsTests
{
    private static float[] Values(int n, int seed, float scale)
    {
        var rng = new Xoshiro256((ulong)seed);
        return [.. Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * scale - scale / 2))];
    }

    [Fact]
    public void Vector_exponentials_stay_within_the_tolerance_of_the_scalar_ones()
    {
        // The exact-pick fallback relies on this bound; arguments span the whole non-underflowing range.
        var x = Values(200_003, 1, 220f);
        var w = new float[x.Length];
        var blocks = new double[(x.Length + SoftmaxKernels.Block - 1) / SoftmaxKernels.Block];
        var total = SoftmaxKernels.ExpWeights(x, 110f, 1f, float.MinValue, w, blocks);
        double exactTotal = 0;
        for (var i = 0; i < x.Length; i++)
        {
            var exact = MathF.Exp(x[i] - 110f);
            exactTotal += exact;
            // Subnormal results may lose bits; they weigh nothing next to the top token's 1.
            Assert.True(Math.Abs(w[i] - exact) <= exact * SoftmaxKernels.ExpTolerance / 2 + 1e-37,
                $"exp({x[i] - 110f}): {w[i]} vs {exact}");
        }
        Assert.Equal(exactTotal, total, exactTotal * SoftmaxKernels.ExpTolerance);
        Assert.Equal(total, blocks.Sum(), total * 1e-12);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(37)]
    [InlineData(32000)]
    public void ArgMax_matches_a_scalar_scan_on_ties_nan_and_infinities(int n)
    {
        var cases = new List<float[]>();
        var x = Values(n, n, 6f);
        cases.Add(x);
        // Ties: the first of several equal maxima wins, and -0 ties +0.
        var ties = (float[])x.Clone();
        foreach (var i in new[] { n / 2, n / 3, n - 1 }) ties[i] = 5f;
        cases.Add(ties);
        var zeros = new float[n];
        Array.Fill(zeros, float.NegativeInfinity);
        zeros[n - 1] = 0f;
        zeros[n / 2] = -0f;
        cases.Add(zeros);
        // NaN before and among the values, only -inf and NaN, only NaN.
        var nan = (float[])x.Clone();
        for (var i = 0; i < n; i += 3) nan[i] = float.NaN;
        cases.Add(nan);
        var inf = new float[n];
        for (var i = 0; i < n; i++) inf[i] = i % 2 == 0 ? float.NaN : float.NegativeInfinity;
        cases.Add(inf);
        var allNan = new float[n];
        Array.Fill(allNan, float.NaN);
        cases.Add(allNan);
        cases.Add([.. Enumerable.Range(0, n).Select(i => (float)i)]);

        foreach (var c in cases) Assert.Equal(ScalarArgMax(c), SoftmaxKernels.ArgMax(c));
    }

    private static int ScalarArgMax(float[] x)
    {
        var best = 0;
        var bestValue = x[0];
        for (var i = 1; i < x.Length; i++)
            if (x[i] > bestValue || float.IsNaN(bestValue)) { best = i; bestValue = x[i]; }
        return best;
    }

    [Fact]
    public void Non_finite_logits_weigh_nothing_and_nan_is_never_the_maximum()
    {
        var x = Values(37, 2, 8f);
        x[3] = float.NaN;
        x[20] = float.NegativeInfinity;
        x[36] = 9f;
        Assert.Equal(9f, SoftmaxKernels.Max(x));
        Assert.Equal(float.NegativeInfinity, SoftmaxKernels.Max([float.NaN, float.NegativeInfinity, float.NaN]));

        var w = new float[x.Length];
        SoftmaxKernels.ExpWeights(x, 9f, 1f, float.MinValue, w, new double[1]);
        Assert.Equal(0f, w[3]);
        Assert.Equal(0f, w[20]);
        Assert.Equal(1f, w[36]);

        // Below a min_p threshold weighs nothing either.
        SoftmaxKernels.ExpWeights(x, 9f, 1f, 0f, w, new double[1]);
        for (var i = 0; i < x.Length; i++) Assert.Equal(x[i] >= 0f ? MathF.Exp(x[i] - 9f) : 0f, w[i], 1e-5f);
    }

    [Theory]
    [InlineData(1, 1f, float.MinValue)]
    [InlineData(15, 0.8f, float.MinValue)]
    [InlineData(257, 0.8f, float.MinValue)]
    [InlineData(32_000, 0.8f, float.MinValue)]
    [InlineData(32_001, 2f, float.MinValue)]
    [InlineData(32_007, 0.1f, 3f)]
    public void Fast_weights_are_the_vector_exponentials_masked_and_summed_per_block(int n, float temperature, float threshold)
    {
        // Logits spread far enough that some arguments leave the normal range, with banned and NaN ones among them.
        var x = Values(n, n, 60f);
        for (var i = 5; i < n; i += 97) x[i] = float.NegativeInfinity;
        for (var i = 11; i < n; i += 389) x[i] = float.NaN;
        var max = SoftmaxKernels.Max(x);
        var invT = 1f / temperature;
        var w = new float[n];
        var blocks = new double[(n + SoftmaxKernels.Block - 1) / SoftmaxKernels.Block];
        var total = SoftmaxKernels.ExpWeights(x, max, invT, threshold, w, blocks);

        for (var i = 0; i < n; i++)
        {
            var arg = (x[i] - max) * invT;
            // The last few logits, short of a vector, take the scalar exponential.
            var exp = i >= n - n % Vector256<float>.Count ? MathF.Exp(arg) : FastExp.Exp(Vector256.Create(arg)).GetElement(0);
            var expected = x[i] >= threshold && arg >= FastExp.NormalMin ? exp : 0f;
            // Where the logit and its argument disagree about the normal range's edge, the weight is 0 or the floor.
            if (Math.Abs(arg - FastExp.NormalMin) < 1e-3f * Math.Max(1f, invT)) Assert.True(w[i] < 1.3e-38f, $"weight {i}: {w[i]:R}");
            else Assert.Equal(expected, w[i]);
        }
        for (var b = 0; b < blocks.Length; b++)
        {
            var exact = 0.0;
            for (var i = b * SoftmaxKernels.Block; i < Math.Min(n, (b + 1) * SoftmaxKernels.Block); i++) exact += w[i];
            Assert.Equal(exact, blocks[b], exact * (1.0 / (1 << 24)) + 1e-300);
        }
        Assert.Equal(blocks.Sum(), total, total * 1e-12);
    }

    [Fact]
    public void An_infinite_maximum_leaves_the_weights_as_undecided_as_before()
    {
        // inf - inf is NaN: the total is NaN, so no pick can be decided from it and the reference decides.
        float[] x = [1f, float.PositiveInfinity, 2f, .. Values(40, 3, 4f)];
        var w = new float[x.Length];
        var total = SoftmaxKernels.ExpWeights(x, float.PositiveInfinity, 1f, float.MinValue, w, new double[1]);
        Assert.True(double.IsNaN(total));
        Assert.True(float.IsNaN(w[1]));
        Assert.Equal(0f, w[0]);
    }

    [Fact]
    public void Indices_at_least_a_threshold_match_a_scalar_scan()
    {
        var x = Values(1029, 3, 10f);
        x[7] = float.NaN;
        x[8] = float.NegativeInfinity;
        var ids = new int[x.Length];
        var values = new float[x.Length];
        foreach (var t in (float[])[float.MinValue, -2f, 4.9f, 6f])
        {
            var n = SoftmaxKernels.IndicesAtLeast(x, t, ids, values);
            Assert.Equal(Enumerable.Range(0, x.Length).Where(i => x[i] >= t), ids[..n]);
            Assert.Equal(ids[..n].Select(i => x[i]), values[..n]);
        }
    }

    [Fact]
    public void A_pick_near_a_boundary_is_left_undecided()
    {
        var w = Enumerable.Repeat(1f, 600).ToArray();
        double[] blocks = [256, 256, 88];
        Assert.Equal(300, Find(300.5));
        Assert.Equal(0, Find(0.5));
        Assert.Equal(599, Find(599.5));
        Assert.Equal(-1, Find(300.05));
        Assert.Equal(-1, Find(299.97));
        Assert.Equal(-1, Find(600.5));

        // The draw u = r x 600, with a band of 0.1 at every boundary.
        int Find(double u) => WeightedPick.Find(w, blocks, u / 600, 600, new DecisionBand(0, 0.1 / 600));
    }
}
