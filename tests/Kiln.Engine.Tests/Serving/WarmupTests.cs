using Kiln.Engine.Models;
using Kiln.Engine.Sampling;
using Kiln.Engine.Serving;
using Kiln.Engine.Tokenizers;

namespace Kiln.Engine.Tests.Serving;

public class WarmupTests
{
    [Fact]
    public void Decodes_every_batch_height_and_leaves_every_slot_empty()
    {
        var model = new FakeModel(maxSlots: 4);
        var report = Warmup.Run(model, new FakeTokenizer(), new SchedulerOptions { MaxBatchSize = 4 }, TimeSpan.FromSeconds(2));

        Assert.InRange(report.Rounds, 1, 40);
        // Slot i runs 2 * (i + 1) tokens: end-of-sequence is banned, so none stops early.
        Assert.Equal(report.Rounds * (2 + 4 + 6 + 8), report.GeneratedTokens);
        var decodeHeights = model.Steps.Where(s => s.Length <= 4).Select(s => s.Length).ToHashSet();
        Assert.Superset(new HashSet<int> { 1, 2, 3, 4 }, decodeHeights);
        Assert.All(Enumerable.Range(0, 4), slot => Assert.Equal(0, model.CachedTokens(slot)));
    }

    [Fact]
    public void A_zero_budget_runs_nothing()
    {
        var model = new FakeModel(maxSlots: 2);
        var report = Warmup.Run(model, new FakeTokenizer(), new SchedulerOptions { MaxBatchSize = 2 }, TimeSpan.Zero);
        Assert.Equal(0, report.Rounds);
        Assert.Empty(model.Steps);
    }

    [SharedFact]
    public async Task A_warmed_model_answers_exactly_as_a_fresh_one()
    {
        var path = SharedFiles.Model("stories260K.gguf");
        var options = new ModelOptions { MaxSlots = 4, ContextLength = 256, KvCacheType = KvCacheType.F32, Threads = 2 };
        var requests = Enumerable.Range(0, 4).Select(i => new GenerationRequest([1, 100 + i, 200 + i])
        {
            MaxTokens = 24,
            Sampling = i % 2 == 0 ? SamplingParams.Greedy : new SamplingParams { Temperature = 0.9f, TopP = 0.9f, Seed = (ulong)i },
        }).ToList();

        async Task<string[]> Answers(bool warm)
        {
            using var model = LlamaModel.Load(path, options);
            var tokenizer = TokenizerFactory.FromGguf(model.File);
            var shape = new SchedulerOptions { MaxBatchSize = 4 };
            if (warm) Assert.True(Warmup.Run(model, tokenizer, shape, TimeSpan.FromSeconds(5)).Rounds > 0);
            using var scheduler = new Scheduler(model, tokenizer, shape);
            var results = await Task.WhenAll(scheduler.SubmitMany(requests).Select(g => g.CollectAsync()));
            return [.. results.Select(r => r.Text)];
        }

        Assert.Equal(await Answers(warm: false), await Answers(warm: true));
    }
}
