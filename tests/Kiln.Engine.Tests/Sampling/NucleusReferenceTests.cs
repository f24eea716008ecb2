using Kiln.Engine.Sampling;

namespace Kiln.Engine.Tests.Sampling;

/// <summary>
/// top_p on nearly flat 32k distributions, where many cuts and draws land near a boundary and
/// take the slower tiers, against a plain sort-everything reference with the same draws.
/// </summary>
public class NucleusReferenceTests
{
    [Theory]
    [InlineData(0.8f, 0.95f, 11UL)]
    [InlineData(1f, 0.9f, 12UL)]
    [InlineData(1.3f, 0.5f, 13UL)]
    public void Matches_the_sorted_reference_draw_for_draw(float temperature, float topP, ulong seed) =>
        AssertMatchesReference(temperature, topP, seed, (data, logits) =>
        {
            for (var i = 0; i < logits.Length; i++) logits[i] = (float)(data.NextDouble() * 6 - 3);
        });

    [Theory]
    [InlineData(0.8f, 0.95f, 21UL, 3f)]
    [InlineData(0.8f, 0.95f, 22UL, 5f)]
    [InlineData(1f, 0.9f, 23UL, 8f)]
    [InlineData(0.5f, 0.99f, 24UL, 4f)]
    public void Matches_the_sorted_reference_on_peaked_distributions(float temperature, float topP, ulong seed, float sd) =>
        // Gaussian logits of this spread put the nucleus within a few nats of the maximum (the buckets then
        // cover only those); the spread also moves from step to step so the cut falls near each floor.
        AssertMatchesReference(temperature, topP, seed, (data, logits) =>
        {
            var spread = sd * (float)(0.5 + data.NextDouble());
            for (var i = 0; i < logits.Length; i++)
                logits[i] = spread * (float)(Math.Sqrt(-2 * Math.Log(1 - data.NextDouble())) * Math.Cos(2 * Math.PI * data.NextDouble()));
        });

    [Theory]
    [InlineData(0.8f, 0.95f, 31UL)]
    [InlineData(1.3f, 0.99f, 32UL)]
    public void Matches_the_sorted_reference_with_logits_beyond_the_exponentials_normal_range(float temperature, float topP, ulong seed) =>
        // A flat distribution (the dense pass) where every 50th logit lies 90 to 190 nats below the rest:
        // their weights underflow, to 0 in the reference and to at most e^-87.3 in the vector passes.
        AssertMatchesReference(temperature, topP, seed, (data, logits) =>
        {
            for (var i = 0; i < logits.Length; i++)
                logits[i] = i % 50 == 7 ? (float)(-90 - data.NextDouble() * 100) : (float)(data.NextDouble() * 6 - 3);
        });

    /// <summary>200 steps of 32k logits from <paramref name="fill"/>, each drawn by the sampler and the reference with the same draw.</summary>
    private static void AssertMatchesReference(float temperature, float topP, ulong seed, Action<Xoshiro256Box, float[]> fill)
    {
        const int vocab = 32000;
        var sampler = new Sampler(vocab, new SamplingParams { Temperature = temperature, TopP = topP, Seed = seed });
        var draws = new Xoshiro256(seed);
        var data = new Xoshiro256Box(seed + 100);
        var logits = new float[vocab];
        for (var step = 0; step < 200; step++)
        {
            fill(data, logits);
            var expected = Reference(logits, 1f / temperature, topP, draws.NextDouble());
            Assert.Equal(expected, sampler.Sample(logits));
        }
    }

    /// <summary>A generator the fill callbacks share by reference (the struct would be copied).</summary>
    private sealed class Xoshiro256Box(ulong seed)
    {
        private Xoshiro256 _rng = new(seed);

        public double NextDouble() => _rng.NextDouble();
    }

    private static int Reference(float[] x, float invT, float topP, double r)
    {
        var max = x.Max();
        double total = 0;
        foreach (var v in x) total += MathF.Exp(v - max);
        var ids = Enumerable.Range(0, x.Length).OrderByDescending(i => x[i]).ThenBy(i => i).ToArray();
        var target = topP * total;
        var n = 0;
        double cum = 0;
        while (cum < target) cum += MathF.Exp(x[ids[n++]] - max);

        var w = new float[n];
        double sum = 0;
        for (var k = 0; k < n; k++) sum += w[k] = MathF.Exp((x[ids[k]] - max) * invT);
        var u = r * sum;
        for (var k = 0; k < n; k++)
        {
            u -= w[k];
            if (u < 0) return ids[k];
        }
        return ids[n - 1];
    }
}
