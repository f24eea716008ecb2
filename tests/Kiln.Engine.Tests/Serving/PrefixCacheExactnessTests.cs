using System.Security.Cryptography;
using Kiln.Engine.Lora;
using Kiln.Engine.Models;
using Kiln.Engine.Sampling;
using Kiln.Engine.Serving;
using Kiln.Engine.Tests.Lora;
using Kiln.Engine.Tests.Models;
using Kiln.Engine.Tokenizers;

namespace Kiln.Engine.Tests.Serving;

/// <summary>
/// Reusing cached prefix KV changes nothing: teacher-forced logits after a restored prefix are the
/// very floats of a forward pass over the whole sequence, on the shared golden models, and served
/// requests that hit the cache produce what they produce without it.
/// </summary>
public class PrefixCacheExactnessTests
{
    public static TheoryData<string, KvCacheType> Models() => new()
    {
        { "stories260K.gguf", KvCacheType.F32 },
        { "TinyStories-656K-Q8_0.gguf", KvCacheType.F32 },
        { "synth-15m-q4_0.gguf", KvCacheType.F32 },
        { "synth-15m-q4_0.gguf", KvCacheType.F16 },
    };

    [SharedTheory]
    [MemberData(nameof(Models))]
    public void LogitsAfterARestoredPrefixAreIdenticalAndMatchTheGolden(string file, KvCacheType kvType)
    {
        var golden = LogitGolden.Load(SharedFiles.GoldenFile(file + ".json"));
        var path = SharedFiles.Model(file);
        using (var s = File.OpenRead(path))
            Assert.Equal(golden.ModelSha256, Convert.ToHexStringLower(SHA256.HashData(s)));
        using var model = LlamaModel.Load(path, new ModelOptions { MaxSlots = 2, ContextLength = 512, KvCacheType = kvType, Threads = 2 });
        const int block = 4;
        using var cache = new PrefixCache(1 << 24, block, ((ILanguageModel)model).KvBytesPerPosition, ((ILanguageModel)model).KvFormat);
        var vocab = model.Info.VocabSize;
        var compared = 0;
        foreach (var c in golden.Cases)
        {
            var tokens = c.PromptTokens.Concat(c.GreedyTokens).ToArray();
            var whole = Forward(model, 0, tokens, 0).ToArray();

            // Cache the prefix from slot 0, restore it into slot 1 and run only the rest there.
            var prefix = (tokens.Length / 2) / block * block;
            cache.Save(model, 0, tokens.AsSpan(0, prefix), null);
            var restored = cache.Restore(model, 1, tokens, tokens.Length - 1, null);
            Assert.Equal(prefix, restored);
            var rest = Forward(model, 1, tokens[prefix..], prefix);

            Assert.Equal(whole.AsSpan(prefix * vocab).ToArray(), rest.ToArray());
            if (kvType == KvCacheType.F32)
            {
                for (var i = prefix; i < tokens.Length; i++)
                    foreach (var (id, expected) in c.Positions[i].Top)
                        Assert.True(Math.Abs(rest[(i - prefix) * vocab + id] - expected) <= golden.LogitAbs,
                            $"{file} position {i} token {id}: {rest[(i - prefix) * vocab + id]} vs golden {expected}");
            }
            compared += tokens.Length - prefix;
        }
        Assert.True(compared > 0);
        Assert.True(cache.Metrics.HitTokens > 0);
    }

    private static ReadOnlySpan<float> Forward(LlamaModel model, int slot, int[] tokens, int start)
    {
        var batch = new Batch(tokens.Length);
        for (var i = 0; i < tokens.Length; i++) batch.Add(tokens[i], slot, start + i, wantLogits: true);
        return model.Forward(batch);
    }

    [SharedFact]
    public async Task ServedRequestsThatHitTheCacheMatchUncachedOnesTokenAndLogprob()
    {
        using var model = LoraFixtures.OpenModel(SharedFiles.Model("stories260K.gguf"), slots: 4);
        var tokenizer = TokenizerFactory.FromGguf(model.File);
        var story = tokenizer.Encode("Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends.", addSpecial: true, parseSpecial: false);
        int[][] prompts =
        [
            [.. story],
            [.. story[..^3], .. tokenizer.Encode(" the sun was warm", addSpecial: false, parseSpecial: false)],
            [.. story[..20], .. tokenizer.Encode(" a big dog", addSpecial: false, parseSpecial: false)],
            [.. story],
        ];
        var sampling = new SamplingParams { Temperature = 0.8f, Seed = 7, TopLogprobs = 3 };

        async Task<List<GenerationResult>> Run(long cacheBytes)
        {
            using var scheduler = new Scheduler(model, tokenizer, new SchedulerOptions { MaxBatchSize = 4, PrefixCacheBytes = cacheBytes, PrefixBlockTokens = 4 });
            var results = new List<GenerationResult>();
            foreach (var p in prompts)
                results.Add(await scheduler.Submit(new GenerationRequest(p) { MaxTokens = 24, Sampling = sampling, Stream = false }).CollectAsync());
            if (cacheBytes > 0)
            {
                Assert.Equal(prompts.Length, scheduler.PrefixCache.Queries);
                Assert.Equal(prompts.Length - 1, scheduler.PrefixCache.Hits);
                Assert.True(scheduler.PrefixCache.HitTokens >= story.Length - 4 + 20, $"hit tokens {scheduler.PrefixCache.HitTokens}");
            }
            return results;
        }

        var without = await Run(0);
        var with = await Run(1 << 22);
        for (var i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(without[i].Text, with[i].Text);
            Assert.Equal(without[i].PromptTokens, with[i].PromptTokens);
            Assert.Equal(
                without[i].Logprobs!.Select(e => (e.Id, e.Logprob, string.Join(",", e.Top.Select(t => $"{t.Id}:{t.Logprob}")))),
                with[i].Logprobs!.Select(e => (e.Id, e.Logprob, string.Join(",", e.Top.Select(t => $"{t.Id}:{t.Logprob}")))));
        }
    }

    [SharedFact]
    public async Task AnAdapterNeverReusesKvComputedWithoutIt()
    {
        using var model = LoraFixtures.OpenModel(SharedFiles.Model("stories260K.gguf"), slots: 2);
        var tokenizer = TokenizerFactory.FromGguf(model.File);
        var qv = model.RegisterAdapter(LoraAdapter.Load(LoraFixtures.Path("stories260K-lora-qv-r4.gguf")));
        var adapter = LoraSet.Single(qv);
        using var scheduler = new Scheduler(model, tokenizer, new SchedulerOptions { MaxBatchSize = 2, PrefixCacheBytes = 1 << 22, PrefixBlockTokens = 4 });
        // Base, adapter, base, adapter: the second of each kind must hit its own kind's prefix only.
        var runs = new[] { (null, "stories260K-base.json"), (adapter, "stories260K-lora-qv-r4.json"), (null, "stories260K-base.json"), (adapter, "stories260K-lora-qv-r4.json") };
        foreach (var (set, file) in runs)
        {
            foreach (var (c, _) in LoraGolden.Load(file).Cases)
            {
                var result = await scheduler.Submit(new GenerationRequest(c.PromptTokens)
                {
                    MaxTokens = c.GreedyTokens.Length,
                    Sampling = SamplingParams.Greedy,
                    Adapters = set,
                }).CollectAsync();
                Assert.Equal(c.GreedyText, result.Text);
            }
        }
        Assert.True(scheduler.PrefixCache.Hits > 0);
    }
}
