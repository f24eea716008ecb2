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
    public void Matches_the_sorted_reference_draw_for_draw(float temperature, float topP, ulong seed)
    {
        const int vocab = 32000;
        var sampler = new Sampler(vocab, new SamplingParams { Temperature = temperature, TopP = topP, Seed = seed });
        var draws = new Xoshiro256(seed);
        var data = new Xoshiro256(seed + 100);
        var logits = new float[vocab];
        for (var step = 0; step < 200; step++)
        {
            for (var i = 0; i < vocab; i++) logits[i] = (float)(data.NextDouble() * 6 - 3);
            var expected = Reference(logits, 1f / temperature, topP, draws.NextDouble());
            Assert.Equal(expected, sampler.Sample(logits));
        }
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
