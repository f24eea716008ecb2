using Kiln.Engine.Models;
using Kiln.Engine.Serving;
using Kiln.Engine.Tokenizers;

namespace Kiln.Engine.Tests.Sampling;

/// <summary>
/// Pins seeded generations on the shared real models, every setting in one continuous batch, so
/// a change to the sampler or to how the scheduler runs it cannot change a seeded request's text.
/// </summary>
public class SeededGenerationPinTests
{
    private const int MaxTokens = 24;

    [SharedTheory]
    [InlineData("stories260K.gguf", -13.336,
        "t0.8: 54:4e15ab354edc3116 | t0.8 top_p0.95: 75:d849497017195909 | t0.8 min_p0.05: 58:8f459ad264922d6f | " +
        "t0.8 top_k40: 59:02417e77950a7df3 | t1.3 top_k100 top_p0.9: 61:818ad0e57d115a4d | t0.5 top_p0.5 min_p0.01: 50:0cc1b0f1f05f1db6 | " +
        "t1 top_k2000 top_p0.99: 46:48d3b1e07cf5b5e1 | t1 penalties: 67:dfc4a2ca124dd84d | t0.9 bias logprobs: 72:2ee7ebd4c879ed5e | " +
        "t2 top_k1: 58:e9dd6c695175a0b5")]
    [InlineData("synth-15m-q4_0.gguf", -246.541,
        "t0.8: 106:6fe02003fb753d4f | t0.8 top_p0.95: 120:4d7de1d69657b7a4 | t0.8 min_p0.05: 115:7ccc0ed23db2c9d9 | " +
        "t0.8 top_k40: 126:3455f0faa7402233 | t1.3 top_k100 top_p0.9: 132:895b1b1b1e5a8c87 | t0.5 top_p0.5 min_p0.01: 132:908fd1f861555646 | " +
        "t1 top_k2000 top_p0.99: 118:15e5e46f7629edbb | t1 penalties: 110:3cc15e9391c6f61b | t0.9 bias logprobs: 124:a5ea295aed94de37 | " +
        "t2 top_k1: 105:069e2d6044d3ba32")]
    public async Task Seeded_generations_are_pinned(string file, double expectedLogprobSum, string expected)
    {
        var settings = SeededSamples.Settings.ToArray();
        using var model = LlamaModel.Load(SharedFiles.Model(file),
            new ModelOptions { MaxSlots = settings.Length, ContextLength = 128, KvCacheType = KvCacheType.F32, Threads = 2 });
        var tokenizer = TokenizerFactory.FromGguf(model.File);
        using var scheduler = new Scheduler(model, tokenizer, new SchedulerOptions { MaxBatchSize = settings.Length });
        var prompt = tokenizer.Encode("Once upon a time, a little fox", addSpecial: true, parseSpecial: false);

        var generations = scheduler.SubmitMany([.. settings.Select(s => new GenerationRequest(prompt) { MaxTokens = MaxTokens, Sampling = s.Value })]);
        var results = await Task.WhenAll(generations.Select(g => g.CollectAsync())).WaitAsync(TimeSpan.FromSeconds(60));

        var texts = settings.Zip(results, (s, r) => $"{s.Key}: {SeededSamples.Fingerprint(r.Text.Select(c => (int)c))}");
        Assert.Equal(expected, string.Join(" | ", texts));
        // Logprobs are floats from a sum of exponentials: pinned to their precision, not bitwise.
        var logprobs = results.Single(r => r.Logprobs is not null).Logprobs!.Sum(e => (double)(e.Logprob ?? 0));
        Assert.Equal(expectedLogprobSum, logprobs, 2e-3);
    }
}
