using Kiln.Engine.Sampling;
using Kiln.Engine.Serving;
using Kiln.Engine.Serving.Speculation;

namespace Kiln.Engine.Tests.Serving.Speculation;

/// <summary>
/// Sampled output keeps the target's distribution through the whole scheduler: a fake target whose
/// next-token distribution over a..d depends on the previous token, n-gram drafts (which copy earlier
/// continuations, so keeping them all would skew the pairs) and a draft model with another
/// distribution. The pairs (previous, next) of many seeded generations pass a chi-square test.
/// </summary>
public class SampledSpeculationTests
{
    private static readonly double[] Base = [0.1, 0.2, 0.3, 0.4];

    // Chi-square quantile at 0.999 for 12 degrees of freedom (4 previous tokens x 3).
    private const double Critical12 = 32.91;

    private static double Weight(int prev, int next, bool draft)
    {
        var i = prev is >= 'a' and <= 'd' ? prev - 'a' : 0;
        return draft ? Base[(3 - next + i + 4) % 4] : Base[(next + i) % 4];
    }

    private static FakeModel Model(bool draft) => new()
    {
        Fill = (token, logits) =>
        {
            logits.Fill(float.NegativeInfinity);
            for (var j = 0; j < 4; j++) logits['a' + j] = (float)Math.Log(Weight(token, j, draft));
        },
    };

    [Theory]
    [InlineData("ngram", 1.0f)]
    [InlineData("ngram", 0.7f)]
    [InlineData("draft", 1.0f)]
    [InlineData("draft", 0.7f)]
    public async Task Generated_pairs_follow_the_target_distribution(string mode, float temperature)
    {
        SpeculationOptions speculation = mode == "ngram"
            ? new() { DraftTokens = 4, NgramLength = 1 }
            : new() { DraftTokens = 3, DraftModel = Model(draft: true) };
        using var s = new Scheduler(Model(draft: false), new FakeTokenizer(),
            new SchedulerOptions { MaxBatchSize = 8, MaxQueue = 400, Speculation = speculation });
        var prompt = FakeTokenizer.Bytes("abcdabcdaabbccdd");
        var requests = Enumerable.Range(0, 300).Select(i => new GenerationRequest(prompt)
        {
            MaxTokens = 24,
            IgnoreEos = true,
            Sampling = new SamplingParams { Temperature = temperature, Seed = (ulong)i + 1 },
        }).ToArray();
        var results = await Task.WhenAll(s.SubmitMany(requests).Select(g => g.CollectAsync().WaitAsync(TimeSpan.FromSeconds(120))));

        var counts = new long[4, 4];
        foreach (var r in results)
        {
            Assert.Equal(24, r.CompletionTokens);
            var prev = (int)'d';
            foreach (var c in r.Text)
            {
                counts[prev - 'a', c - 'a']++;
                prev = c;
            }
        }
        var chi = 0.0;
        for (var i = 0; i < 4; i++)
        {
            var n = 0L;
            var total = 0.0;
            for (var j = 0; j < 4; j++)
            {
                n += counts[i, j];
                total += Math.Pow(Weight('a' + i, j, draft: false), 1 / temperature);
            }
            for (var j = 0; j < 4; j++)
            {
                var expected = n * Math.Pow(Weight('a' + i, j, draft: false), 1 / temperature) / total;
                chi += (counts[i, j] - expected) * (counts[i, j] - expected) / expected;
            }
        }
        var m = s.Speculation!;
        Assert.True(m.AcceptedTokens > 0 && m.AcceptedTokens < m.DraftTokens, $"{m.AcceptedTokens} of {m.DraftTokens} drafts accepted");
        Assert.True(chi < Critical12, $"chi-square {chi:F1} (12 degrees of freedom); accepted {m.AcceptedTokens} of {m.DraftTokens}");
    }
}
