using System.Diagnostics;
using Kiln.Engine.Models;
using Kiln.Engine.Sampling;
using Kiln.Engine.Serving;
using Kiln.Engine.Tokenizers;

namespace Kiln.Bench;

/// <summary>Settings of <c>kiln bench prefix</c>.</summary>
public sealed record PrefixBenchOptions
{
    public required string ModelPath { get; init; }
    public int Threads { get; init; } = 2;
    public int PrefixTokens { get; init; } = 1000;
    public int Repetitions { get; init; } = 5;
    public KvCacheType KvCacheType { get; init; } = KvCacheType.F16;
}

/// <summary>
/// Time to first token of a request whose long prefix the scheduler's prefix cache holds, against the
/// same request shape with a prefix never seen (medians, interleaved), and what restoring the prefix
/// costs by itself: the copy a slot that still held the prefix would save.
/// </summary>
public static class PrefixBench
{
    private const int SuffixTokens = 16;

    public static int Run(PrefixBenchOptions o, TextWriter output)
    {
        var ctx = o.PrefixTokens + SuffixTokens + 8;
        using var model = LlamaModel.Load(o.ModelPath, new ModelOptions { MaxSlots = 2, ContextLength = ctx, KvCacheType = o.KvCacheType, Threads = o.Threads });
        if (ctx > model.Info.ContextLength)
            throw new ArgumentException($"--prefix {o.PrefixTokens} + {SuffixTokens + 8} tokens exceed the model's context of {model.Info.ContextLength}");
        var tokenizer = TokenizerFactory.FromGguf(model.File);
        var kv = (ILanguageModel)model;
        var budget = kv.KvBytesPerPosition * ctx * (o.Repetitions + 4);
        using var scheduler = new Scheduler(model, tokenizer, new SchedulerOptions { MaxBatchSize = 1, PrefixCacheBytes = budget });
        var rng = new Random(1234);
        // Ordinary tokens, clear of the control tokens at the start of the vocabulary.
        int[] Tokens(int n) => [.. Enumerable.Range(0, n).Select(_ => rng.Next(256, model.Info.VocabSize))];
        double Ttft(int[] prompt)
        {
            var start = Stopwatch.GetTimestamp();
            scheduler.Submit(new GenerationRequest(prompt) { MaxTokens = 1, Sampling = SamplingParams.Greedy, Stream = false }).CollectAsync().GetAwaiter().GetResult();
            return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        var shared = Tokens(o.PrefixTokens);
        for (var i = 0; i < 2; i++)
        {
            Ttft([.. Tokens(o.PrefixTokens), .. Tokens(SuffixTokens)]);
            Ttft([.. shared, .. Tokens(SuffixTokens)]);
        }
        var cold = new List<double>();
        var cached = new List<double>();
        for (var i = 0; i < o.Repetitions; i++)
        {
            cold.Add(Ttft([.. Tokens(o.PrefixTokens), .. Tokens(SuffixTokens)]));
            cached.Add(Ttft([.. shared, .. Tokens(SuffixTokens)]));
        }

        // The restore alone: the prefix's KV copied from saved blocks into a slot.
        var block = scheduler.PrefixCache.BlockTokens;
        var positions = o.PrefixTokens / block * block;
        var saved = new byte[kv.KvBytesPerPosition * positions];
        var copies = new List<double>();
        for (var i = 0; i < o.Repetitions + 2; i++)
        {
            var start = Stopwatch.GetTimestamp();
            for (var b = 0; b < positions / block; b++)
                kv.LoadKv(1, b * block, block, saved.AsSpan((int)(b * block * kv.KvBytesPerPosition), (int)(block * kv.KvBytesPerPosition)));
            copies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }

        var (c, h, copy) = (GatewayBench.Percentile(cold, 50), GatewayBench.Percentile(cached, 50), GatewayBench.Percentile([.. copies.Skip(2)], 50));
        var m = scheduler.PrefixCache;
        output.WriteLine($"model      {Path.GetFileName(o.ModelPath)} ({model.Config.EmbeddingLength} dim, {model.Config.BlockCount} layers), {o.Threads} threads, kv cache {o.KvCacheType}");
        output.WriteLine($"request    {o.PrefixTokens}-token prefix + {SuffixTokens} new tokens, 1 token generated; {o.Repetitions} each way, interleaved, medians");
        output.WriteLine($"ttft       prefix not cached {c:F1} ms, prefix cached {h:F1} ms, ratio {h / c:F3}");
        output.WriteLine($"restore    {positions} positions ({positions * kv.KvBytesPerPosition / 1e6:F1} MB) copied into a slot in {copy:F2} ms ({copy / h * 100:F1}% of the cached ttft)");
        output.WriteLine($"cache      {m.Hits}/{m.Queries} requests hit, {m.HitTokens}/{m.QueryTokens} prompt tokens from the cache, {m.UsedBytes / 1e6:F1} of {m.CapacityBytes / 1e6:F1} MB held");
        return 0;
    }
}
