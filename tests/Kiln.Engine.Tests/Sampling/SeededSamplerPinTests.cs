using Kiln.Engine.Sampling;

namespace Kiln.Engine.Tests.Sampling;

/// <summary>
/// Pins what seeded samplers pick on synthetic logit vectors of several shapes (peaked, flat,
/// Zipf-like, with ties), so an optimisation of the sampler cannot silently change seeded outputs.
/// </summary>
public class SeededSamplerPinTests
{
    private const int Draws = 40;

    /// <summary>Logits of draw <paramref name="draw"/>: the shape cycles so each setting meets every one.</summary>
    public static float[] Logits(int vocab, int draw)
    {
        var rng = new Xoshiro256((ulong)(vocab * 1000 + draw));
        var logits = new float[vocab];
        switch (draw % 4)
        {
            case 0: // noise with one clear favourite
                for (var i = 0; i < vocab; i++) logits[i] = Gaussian(ref rng) * 2f;
                logits[(int)(rng.NextUInt64() % (ulong)vocab)] += 8f;
                break;
            case 1: // nearly flat
                for (var i = 0; i < vocab; i++) logits[i] = (float)(rng.NextDouble() * 2 - 1);
                break;
            case 2: // Zipf-like over a shuffled vocabulary, as a trained model's tail
                for (var i = 0; i < vocab; i++) logits[i] = -1.1f * MathF.Log(1 + (float)((i * 7919L) % vocab)) + 0.1f * Gaussian(ref rng);
                break;
            default: // coarse values: many exact ties
                for (var i = 0; i < vocab; i++) logits[i] = MathF.Round(Gaussian(ref rng) * 3f) * 0.5f;
                break;
        }
        return logits;
    }

    private static float Gaussian(ref Xoshiro256 rng)
    {
        var u = 1 - rng.NextDouble();
        return (float)(Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * rng.NextDouble()));
    }

    /// <summary>Runs a setting for <paramref name="draws"/> draws; returns the tokens' fingerprint and the logprobs' sum.</summary>
    public static (string Tokens, double LogprobSum) Run(string setting, int vocab, int draws = Draws)
    {
        var sampler = new Sampler(vocab, SeededSamples.Settings[setting]);
        sampler.AcceptPrompt([1, 2, 3, 2, 1]);
        var picked = new List<int>();
        double logprobs = 0;
        for (var d = 0; d < draws; d++)
        {
            picked.Add(sampler.Sample(Logits(vocab, d)));
            logprobs += sampler.ChosenLogprob;
            foreach (var top in sampler.TopLogprobs)
            {
                picked.Add(top.Token);
                logprobs += top.Logprob;
            }
        }
        return (SeededSamples.Fingerprint(picked), logprobs);
    }

    [Theory]
    [InlineData("t0.8", 32000, "40:c593e046564f6065", 0)]
    [InlineData("t0.8 top_p0.95", 32000, "40:9f7fbaf8618d808a", 0)]
    [InlineData("t0.8 min_p0.05", 32000, "40:b057305c201d5e02", 0)]
    [InlineData("t0.8 top_k40", 32000, "40:f70045c50cac5c29", 0)]
    [InlineData("t1.3 top_k100 top_p0.9", 32000, "40:fd1dbda536f76cd3", 0)]
    [InlineData("t0.5 top_p0.5 min_p0.01", 32000, "40:d4cbee59bff26246", 0)]
    [InlineData("t1 top_k2000 top_p0.99", 32000, "40:e45b87931b511175", 0)]
    [InlineData("t1 penalties", 32000, "40:9bf1cc3d5974985e", 0)]
    [InlineData("t0.9 bias logprobs", 32000, "240:3cb236636a74598e", -1428.277753829956)]
    [InlineData("t2 top_k1", 32000, "40:83c155eb21c4d69b", 0)]
    [InlineData("t0.8", 512, "40:698472b30bb33735", 0)]
    [InlineData("t0.8 top_p0.95", 512, "40:18cdf6ce2308ffd5", 0)]
    [InlineData("t0.8 min_p0.05", 512, "40:0d97813c39eed5d8", 0)]
    [InlineData("t0.8 top_k40", 512, "40:4bc00aac0a99faac", 0)]
    [InlineData("t1.3 top_k100 top_p0.9", 512, "40:ab482280392b9faf", 0)]
    [InlineData("t0.5 top_p0.5 min_p0.01", 512, "40:fea06d62bc24e232", 0)]
    [InlineData("t1 top_k2000 top_p0.99", 512, "40:734d793ad2489d88", 0)]
    [InlineData("t1 penalties", 512, "40:0dc9cb9689ef5516", 0)]
    [InlineData("t0.9 bias logprobs", 512, "240:99ef9ca89cf954f3", -889.145432472229)]
    [InlineData("t2 top_k1", 512, "40:e36785e300654810", 0)]
    public void Seeded_picks_are_pinned(string setting, int vocab, string expectedTokens, double expectedLogprobSum)
    {
        var (tokens, logprobs) = Run(setting, vocab);
        Assert.Equal(expectedTokens, tokens);
        // Logprobs are floats computed from a sum of exponentials: pinned to their precision, not bitwise.
        Assert.Equal(expectedLogprobSum, logprobs, Math.Abs(expectedLogprobSum) * 1e-5);
    }

    [Theory]
    [InlineData(32000, 40, "40:8752a96bb09f67a2")]
    [InlineData(512, 40, "40:9964b0d9b8c244d6")]
    [InlineData(3000, 400, "400:f7390212c72c06bf")]
    public void Top_k_with_min_p_is_pinned(int vocab, int draws, string expected)
    {
        // min_p's threshold comes from the maximum, which top_k's sampling takes from its k best.
        var sampler = new Sampler(vocab, new SamplingParams { Temperature = 0.7f, TopK = 50, MinP = 0.1f, Seed = 11 });
        sampler.AcceptPrompt([1, 2, 3, 2, 1]);
        var picked = new List<int>();
        for (var d = 0; d < draws; d++) picked.Add(sampler.Sample(Logits(vocab, d)));
        Assert.Equal(expected, SeededSamples.Fingerprint(picked));

        // With every logit banned or NaN, top_k has no best to take a maximum from: the first id, as before.
        var banned = Enumerable.Repeat(float.NegativeInfinity, vocab).ToArray();
        banned[7] = float.NaN;
        Assert.Equal(0, sampler.Sample(banned));
    }

    [Fact]
    public void Many_seeded_picks_over_every_setting_are_pinned()
    {
        // More draws on a mid-sized vocabulary: a rare disagreement near a cumulative boundary shows here.
        var all = SeededSamples.Settings.Keys.Select(k => Run(k, 3000, draws: 400).Tokens);
        Assert.Equal(
            "400:4dba2e48c1f57fe8 400:40afdbfdc0ed833c 400:cc0c5eb7e9fcceb2 400:4d709c98962769eb 400:5ba5a8fbaa82df1d " +
            "400:37e619e2603affb9 400:da3425fb3eba528d 400:d8bf2ee3b6d51a9b 2400:6a47bbe4e7a481eb 400:730605e159993926",
            string.Join(" ", all));
    }
}
