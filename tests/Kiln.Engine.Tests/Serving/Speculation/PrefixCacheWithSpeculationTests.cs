using Kiln.Engine.Models;
using Kiln.Engine.Sampling;
using Kiln.Engine.Serving;
using Kiln.Engine.Serving.Speculation;
using Kiln.Engine.Tests.Models;
using Kiln.Engine.Tokenizers;

namespace Kiln.Engine.Tests.Serving.Speculation;

/// <summary>
/// The prefix cache and speculation on one scheduler: a request that restores cached prefix blocks
/// and then speculates (drafts verified, rejected ones rolled back) decodes exactly what it decodes
/// with neither.
/// </summary>
public class PrefixCacheWithSpeculationTests
{
    private const int Context = 512;

    private static LlamaModel Open(string path, int slots) =>
        LlamaModel.Load(path, new ModelOptions { MaxSlots = slots, ContextLength = Context, KvCacheType = KvCacheType.F32, Threads = 2 });

    private static async Task<int[][]> DecodeAsync(Scheduler scheduler, IEnumerable<int[]> prompts) =>
        (await Task.WhenAll(scheduler.SubmitMany([.. prompts.Select(p => new GenerationRequest(p)
        {
            MaxTokens = 24,
            IgnoreEos = true,
            Sampling = SamplingParams.Greedy with { Logprobs = true },
        })]).Select(g => g.CollectAsync().WaitAsync(TimeSpan.FromMinutes(2)))))
        .Select(r => r.Logprobs!.Select(e => e.Id).ToArray()).ToArray();

    [SharedTheory]
    [InlineData("ngram")]
    [InlineData("self-draft")]
    [InlineData("random-draft")]
    public async Task Requests_that_hit_the_prefix_cache_and_speculate_decode_as_without_either(string mode)
    {
        const string file = "stories260K.gguf";
        var golden = LogitGolden.Load(SharedFiles.GoldenFile(file + ".json"));
        // A shared prefix of three 16-token blocks (a golden prompt and its continuation), then the start of each case's own prompt.
        var shared = golden.Cases.OrderByDescending(c => c.PromptTokens.Length + c.GreedyTokens.Length).First();
        var prefix = shared.PromptTokens.Concat(shared.GreedyTokens).Take(48).ToArray();
        Assert.Equal(48, prefix.Length);
        var prompts = golden.Cases.Take(6).Select(c => prefix.Concat(c.PromptTokens.Skip(1).Take(24)).ToArray()).ToArray();
        var slots = prompts.Length;

        int[][] expected;
        using (var plain = Open(SharedFiles.Model(file), slots))
        using (var scheduler = new Scheduler(plain, TokenizerFactory.FromGguf(plain.File), new SchedulerOptions { MaxBatchSize = slots }))
        {
            expected = await DecodeAsync(scheduler, prompts);
        }

        using var target = Open(SharedFiles.Model(file), slots);
        using var draft = mode switch
        {
            "self-draft" => Open(SharedFiles.Model(file), slots),
            "random-draft" => Open(SpeculativeGoldenTests.RandomDraft(file), slots),
            _ => null,
        };
        using var both = new Scheduler(target, TokenizerFactory.FromGguf(target.File), new SchedulerOptions
        {
            MaxBatchSize = slots,
            PrefixCacheBytes = 16 << 20,
            Speculation = new SpeculationOptions { DraftTokens = 4, NgramLength = draft is null ? 2 : null, DraftModel = draft },
        });
        // The first round fills the cache (each request saves its blocks when it ends); the second restores them.
        Assert.Equal(expected, await DecodeAsync(both, prompts));
        var hitsBefore = both.PrefixCache.HitTokens;
        Assert.Equal(expected, await DecodeAsync(both, prompts));
        Assert.True(both.PrefixCache.HitTokens - hitsBefore >= prompts.Length * 32,
            $"the second round restored {both.PrefixCache.HitTokens - hitsBefore} prompt tokens");
        Assert.True(both.Speculation!.DraftTokens > 0, "nothing was proposed");
        if (mode == "random-draft") Assert.True(both.Speculation.AcceptedTokens < both.Speculation.DraftTokens, "no draft was rejected, so no rollback ran");
    }
}
