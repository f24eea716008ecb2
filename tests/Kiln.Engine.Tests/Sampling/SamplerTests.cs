using Kiln.Engine.Sampling;

namespace Kiln.Engine.Tests.Sampling;

public class SamplerTests
{
    private static float[] RandomLogits(int n, int seed)
    {
        var rng = new Xoshiro256((ulong)seed);
        return [.. Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 8 - 4))];
    }

    private static float[] FromProbs(params double[] probs) => [.. probs.Select(p => (float)Math.Log(p))];

    private static Dictionary<int, int> Counts(Sampler s, float[] logits, int draws)
    {
        var h = new Dictionary<int, int>();
        for (var i = 0; i < draws; i++)
        {
            var t = s.Sample(logits);
            h[t] = h.GetValueOrDefault(t) + 1;
        }
        return h;
    }

    [Fact]
    public void Greedy_picks_argmax_and_lowest_id_on_ties()
    {
        var s = new Sampler(5, SamplingParams.Greedy);
        Assert.Equal(3, s.Sample([0f, 1f, 2f, 5f, 4f]));
        Assert.Equal(1, s.Sample([0f, 7f, 2f, 7f, 7f]));
    }

    [Fact]
    public void Top_k_one_equals_greedy()
    {
        var topK1 = new Sampler(1000, new SamplingParams { TopK = 1, Temperature = 1.5f, Seed = 1 });
        var greedy = new Sampler(1000, SamplingParams.Greedy);
        for (var i = 0; i < 50; i++)
        {
            var logits = RandomLogits(1000, i);
            logits[(i * 37) % 1000] = logits.Max(); // a tie: both must choose the lower id
            Assert.Equal(greedy.Sample(logits), topK1.Sample(logits));
        }
    }

    [Fact]
    public void Seeded_sampling_is_reproducible_and_seed_dependent()
    {
        var p = new SamplingParams { Temperature = 1f, TopP = 0.95f, TopK = 50, Seed = 1234 };
        var a = new Sampler(2000, p);
        var b = new Sampler(2000, p);
        var c = new Sampler(2000, p with { Seed = 99 });
        var ra = new List<int>();
        var rb = new List<int>();
        var rc = new List<int>();
        for (var i = 0; i < 100; i++)
        {
            var logits = RandomLogits(2000, i);
            ra.Add(a.Sample(logits));
            rb.Add(b.Sample(logits));
            rc.Add(c.Sample(logits));
        }
        Assert.Equal(ra, rb);
        Assert.NotEqual(ra, rc);
    }

    [Fact]
    public void Xoshiro_sequence_is_fixed()
    {
        // Pinned so a change of generator (and so of every seeded output) cannot go unnoticed.
        var r = new Xoshiro256(42);
        var first = r.NextUInt64();
        var again = new Xoshiro256(42).NextUInt64();
        Assert.Equal(first, again);
        Assert.NotEqual(first, new Xoshiro256(43).NextUInt64());
        for (var i = 0; i < 1000; i++) Assert.InRange(r.NextDouble(), 0.0, 0.9999999999999999);
    }

    [Fact]
    public void Temperature_one_follows_the_softmax()
    {
        var s = new Sampler(3, new SamplingParams { Seed = 7 });
        var h = Counts(s, FromProbs(0.5, 0.3, 0.2), 20000);
        Assert.InRange(h[0] / 20000.0, 0.48, 0.52);
        Assert.InRange(h[1] / 20000.0, 0.28, 0.32);
        Assert.InRange(h[2] / 20000.0, 0.18, 0.22);
    }

    [Fact]
    public void Low_temperature_sharpens()
    {
        var s = new Sampler(3, new SamplingParams { Temperature = 0.1f, Seed = 7 });
        var h = Counts(s, FromProbs(0.5, 0.3, 0.2), 2000);
        Assert.True(h[0] > 1950, $"got {h[0]}");
    }

    [Fact]
    public void Top_k_keeps_only_the_k_best()
    {
        var s = new Sampler(6, new SamplingParams { TopK = 2, Seed = 3 });
        var h = Counts(s, FromProbs(0.1, 0.3, 0.05, 0.25, 0.2, 0.1), 5000);
        Assert.Equal([1, 3], h.Keys.Order());
    }

    [Fact]
    public void Top_p_keeps_the_nucleus()
    {
        var s = new Sampler(4, new SamplingParams { TopP = 0.7f, Seed = 3 });
        var h = Counts(s, FromProbs(0.1, 0.5, 0.3, 0.1), 5000);
        Assert.Equal([1, 2], h.Keys.Order());
        Assert.InRange(h[1] / 5000.0, 0.58, 0.67); // renormalized 0.5/0.8
    }

    [Fact]
    public void Top_p_on_a_large_vocabulary_matches_brute_force()
    {
        const int n = 5000;
        var logits = RandomLogits(n, 11);
        var s = new Sampler(n, new SamplingParams { TopP = 0.5f, Seed = 5 });
        var max = logits.Max();
        var probs = logits.Select(l => Math.Exp(l - max)).ToArray();
        var total = probs.Sum();
        var order = Enumerable.Range(0, n).OrderByDescending(i => logits[i]).ThenBy(i => i).ToArray();
        var nucleus = new HashSet<int>();
        double cum = 0;
        foreach (var id in order)
        {
            nucleus.Add(id);
            cum += probs[id] / total;
            if (cum >= 0.5) break;
        }
        for (var i = 0; i < 2000; i++) Assert.Contains(s.Sample(logits), nucleus);

        // The 1024-token shortcut must fall back when the head lacks the mass.
        var flat = new float[n];
        var wide = new Sampler(n, new SamplingParams { TopP = 0.9f, Seed = 5 });
        var seen = new HashSet<int>();
        for (var i = 0; i < 3000; i++) seen.Add(wide.Sample(flat));
        Assert.Contains(seen, t => t >= 1024);
    }

    [Fact]
    public void Logit_order_sorts_best_first_with_ties_to_the_lower_id()
    {
        var logits = RandomLogits(3000, 4);
        for (var i = 0; i < 3000; i += 7) logits[i] = MathF.Round(logits[i]); // exact ties
        logits[10] = 0f;
        logits[11] = -0f; // equal to +0 for the order, so the ids decide
        logits[12] = float.NegativeInfinity;
        logits[13] = float.MaxValue;
        int[] ids = [.. Enumerable.Range(0, 3000).Reverse()];
        new LogitOrder(logits).Sort(ids, new ulong[3000]);
        Assert.Equal(Enumerable.Range(0, 3000).OrderByDescending(i => logits[i]).ThenBy(i => i), ids);
    }

    [Fact]
    public void Min_p_drops_unlikely_tokens()
    {
        var s = new Sampler(4, new SamplingParams { MinP = 0.5f, Seed = 3 });
        var h = Counts(s, FromProbs(0.4, 0.25, 0.19, 0.16), 5000);
        Assert.Equal([0, 1], h.Keys.Order());
    }

    [Fact]
    public void Logit_bias_bans_and_promotes()
    {
        var logits = new[] { 5f, 1f, 0f };
        var ban = new Sampler(3, SamplingParams.Greedy with { LogitBias = new Dictionary<int, float> { [0] = -100 } });
        Assert.Equal(1, ban.Sample(logits));
        var promote = new Sampler(3, SamplingParams.Greedy with { LogitBias = new Dictionary<int, float> { [2] = 6 } });
        Assert.Equal(2, promote.Sample(logits));

        var banned = new Sampler(3, new SamplingParams { Seed = 1, LogitBias = new Dictionary<int, float> { [0] = -100 } });
        Assert.DoesNotContain(0, Counts(banned, logits, 2000).Keys);
    }

    [Fact]
    public void Repetition_penalty_divides_positive_and_multiplies_negative_logits()
    {
        var p = SamplingParams.Greedy with { RepetitionPenalty = 1.5f, RepetitionLastN = 4 };
        var s = new Sampler(3, p);
        s.AcceptPrompt([0]);
        Assert.Equal(1, s.Sample([2f, 1.9f, -5f])); // 2/1.5 < 1.9

        var neg = new Sampler(3, p);
        neg.AcceptPrompt([0]);
        Assert.Equal(1, neg.Sample([-1f, -1.2f, -5f])); // -1*1.5 < -1.2

        // Outside the window of the last 4 tokens, no penalty.
        var old = new Sampler(3, p);
        old.AcceptPrompt([0, 2, 2, 2, 2]);
        Assert.Equal(0, old.Sample([2f, 1.9f, -5f]));
    }

    [Fact]
    public void Presence_and_frequency_penalties_discourage_generated_tokens()
    {
        var presence = new Sampler(3, SamplingParams.Greedy with { PresencePenalty = 0.5f });
        float[] logits = [2f, 1.8f, 0f];
        Assert.Equal(0, presence.Sample(logits));
        Assert.Equal(1, presence.Sample(logits)); // 2-0.5 < 1.8
        Assert.Equal(0, presence.Sample(logits)); // 1.5 vs 1.3: presence counts once

        var frequency = new Sampler(3, SamplingParams.Greedy with { FrequencyPenalty = 0.15f });
        Assert.Equal(0, frequency.Sample(logits));
        Assert.Equal(0, frequency.Sample(logits)); // 1.85 > 1.8
        Assert.Equal(1, frequency.Sample(logits)); // 1.7 < 1.8
    }

    [Fact]
    public void Logprobs_are_a_normalized_log_softmax_after_bias()
    {
        var logits = RandomLogits(20, 3);
        var s = new Sampler(20, new SamplingParams
        {
            Seed = 2,
            Logprobs = true,
            TopLogprobs = 20,
            LogitBias = new Dictionary<int, float> { [4] = -100, [5] = 1.5f },
        });
        var token = s.Sample(logits);
        var top = s.TopLogprobs.ToArray();

        Assert.Equal(19, top.Length); // the banned token is not a candidate
        Assert.DoesNotContain(top, t => t.Token == 4);
        Assert.Equal(1.0, top.Sum(t => Math.Exp(t.Logprob)), 4);
        for (var i = 1; i < top.Length; i++) Assert.True(top[i - 1].Logprob >= top[i].Logprob);

        var biased = logits.ToArray();
        biased[5] += 1.5f;
        var lse = Math.Log(biased.Where((_, i) => i != 4).Sum(v => Math.Exp(v)));
        Assert.Equal(biased[token] - lse, s.ChosenLogprob, 4);
        Assert.Equal(biased[5] - lse, top.Single(t => t.Token == 5).Logprob, 4);
    }

    [Theory]
    [InlineData(32000, 5)]
    [InlineData(1003, 20)]
    public void Top_logprobs_on_a_large_vocabulary_match_a_sorted_reference(int vocab, int wanted)
    {
        var logits = RandomLogits(vocab, 9);
        // Ties at the top (the lower id first), a late better value, and values the list must skip.
        logits[vocab - 1] = logits[vocab / 2] = logits[17] = 40f;
        logits[vocab - 3] = 39f;
        logits[3] = float.NegativeInfinity;
        logits[vocab / 3] = float.NaN;
        var s = new Sampler(vocab, SamplingParams.Greedy with { TopLogprobs = wanted });
        s.Score(logits, 0);

        var finite = Enumerable.Range(0, vocab).Where(i => float.IsFinite(logits[i])).ToArray();
        var max = finite.Max(i => logits[i]);
        var lse = max + Math.Log(finite.Sum(i => Math.Exp(logits[i] - max)));
        var expected = finite.OrderByDescending(i => logits[i]).ThenBy(i => i).Take(wanted).ToArray();
        var top = s.TopLogprobs.ToArray();
        Assert.Equal(expected, top.Select(t => t.Token));
        for (var k = 0; k < wanted; k++) Assert.Equal(logits[expected[k]] - lse, top[k].Logprob, 4);
        Assert.Equal(logits[0] - lse, s.ChosenLogprob, 4);
    }

    [Theory]
    [InlineData(1f)]
    [InlineData(6f)]
    public void Top_p_survives_infinite_and_NaN_logits_on_flat_and_peaked_distributions(float spread)
    {
        // A broken model can produce them; the buckets' index arithmetic must stay in range whatever they give.
        const int vocab = 32000;
        var s = new Sampler(vocab, new SamplingParams { Temperature = 0.8f, TopP = 0.95f, Seed = 5 });
        var logits = RandomLogits(vocab, 3);
        for (var i = 0; i < vocab; i++) logits[i] *= spread;
        for (var step = 0; step < 12; step++)
        {
            var x = logits.ToArray();
            for (var i = step; i < vocab; i += 97) x[i] = float.NaN;
            if (step % 2 == 0) x[step * 11] = float.PositiveInfinity;
            if (step % 3 == 0) x[vocab - 1 - step] = float.NegativeInfinity;
            Assert.InRange(s.Sample(x), 0, vocab - 1);
        }
    }

    [Fact]
    public void Score_reports_a_given_token()
    {
        var s = new Sampler(3, SamplingParams.Greedy with { TopLogprobs = 2 });
        s.Score(FromProbs(0.5, 0.25, 0.25), 2);
        Assert.Equal(Math.Log(0.25), s.ChosenLogprob, 4);
        Assert.Equal([0, 1], s.TopLogprobs.ToArray().Select(t => t.Token)); // tie goes to the lower id
    }

    [Fact]
    public void Invalid_parameters_name_the_field()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Sampler(10, new SamplingParams { TopLogprobs = 21 }));
        Assert.Equal("top_logprobs", e.ParamName);
        e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new Sampler(10, new SamplingParams { LogitBias = new Dictionary<int, float> { [10] = 1 } }));
        Assert.Equal("logit_bias", e.ParamName);
    }

    [Fact]
    public void Sampling_does_not_allocate_per_token()
    {
        var logits = RandomLogits(3000, 1);
        var s = new Sampler(3000, new SamplingParams
        {
            Seed = 1,
            TopK = 100,
            TopP = 0.9f,
            MinP = 0.01f,
            RepetitionPenalty = 1.1f,
            PresencePenalty = 0.1f,
            FrequencyPenalty = 0.1f,
            TopLogprobs = 5,
        });
        for (var i = 0; i < 10; i++) s.Sample(logits); // warm up
        // Tiered compilation may swap code in (and allocate) during the first windows: the best of a
        // few windows must be clean, while a per-token allocation would show in every one.
        long best = long.MaxValue;
        for (var window = 0; window < 6 && best > 0; window++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 100; i++) s.Sample(logits);
            best = Math.Min(best, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.Equal(0, best);
    }
}
