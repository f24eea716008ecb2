using System.Diagnostics;
using Kiln.Engine.Lora;
using Kiln.Engine.Models;
using Kiln.Engine.Sampling;
using Kiln.Engine.Serving;
using Kiln.Engine.Tokenizers;

namespace Kiln.Bench;

/// <summary>Settings of a serving benchmark: concurrent streams with and without adapters.</summary>
public sealed record ServeBenchOptions
{
    public required string ModelPath { get; init; }
    public int Threads { get; init; } = 2;
    public int Streams { get; init; } = 8;
    /// <summary>Adapters the streams are spread over (synthetic ones when <see cref="LoraPaths"/> is empty).</summary>
    public int Adapters { get; init; } = 4;
    public int Rank { get; init; } = 8;
    public IReadOnlyList<string> LoraPaths { get; init; } = [];
    public int PromptTokens { get; init; } = 32;
    public int GenerateTokens { get; init; } = 128;
    public int Repetitions { get; init; } = 3;
    /// <summary>F16 by default, as llama-server's, so the figures compare like for like.</summary>
    public KvCacheType KvCacheType { get; init; } = KvCacheType.F16;
}

/// <summary>
/// Aggregate generation throughput of the scheduler with every stream on the base model, then with
/// the streams spread round-robin over several adapters in the same continuous batch. The ratio is
/// what serving many adapters from one deployment costs.
/// </summary>
public static class ServeBench
{
    public static int Run(ServeBenchOptions o, TextWriter output)
    {
        using var model = LlamaModel.Load(o.ModelPath, new ModelOptions
        {
            MaxSlots = o.Streams,
            ContextLength = o.PromptTokens + o.GenerateTokens,
            Threads = o.Threads,
            MaxBatchRows = Math.Max(o.Streams, 256),
            KvCacheType = o.KvCacheType,
        });
        var tokenizer = TokenizerFactory.FromGguf(model.File);
        var adapters = o.LoraPaths.Count > 0
            ? o.LoraPaths.Select(p => LoraAdapter.Load(p, model.Config)).ToArray()
            : Enumerable.Range(0, o.Adapters).Select(i => SyntheticLora.Create(model, o.Rank, seed: 100 + i)).ToArray();
        var sets = adapters.Select(a => LoraSet.Single(model.RegisterAdapter(a))).ToArray();

        output.WriteLine($"model      {Path.GetFileName(o.ModelPath)}  ({model.Config.BlockCount} layers, dim {model.Config.EmbeddingLength}, vocab {model.Info.VocabSize})");
        output.WriteLine($"adapters   {adapters.Length}: {string.Join("; ", adapters.Select(a => a.ToString()))}");
        output.WriteLine($"streams    {o.Streams} concurrent, prompt {o.PromptTokens} tokens, {o.GenerateTokens} generated each, {o.Threads} threads, kv cache {o.KvCacheType}, best of {o.Repetitions}");

        using var scheduler = new Scheduler(model, tokenizer, new SchedulerOptions { MaxBatchSize = o.Streams, PrefillChunk = 256 });
        var rng = new Random(1234);
        var prompts = Enumerable.Range(0, o.Streams)
            .Select(_ => Enumerable.Range(0, o.PromptTokens).Select(_ => rng.Next(3, model.Info.VocabSize)).ToArray()).ToArray();
        // Every stream generates exactly the requested length: end-of-generation tokens are banned.
        var ban = new Dictionary<int, float>();
        if (tokenizer.EosId is { } eos) ban[eos] = -1e9f;
        foreach (var id in tokenizer.EndOfGenerationIds) ban[id] = -1e9f;
        var sampling = new SamplingParams { Temperature = 0, LogitBias = ban };

        double Round(Func<int, LoraSet?> setOf)
        {
            var sw = Stopwatch.StartNew();
            var gens = scheduler.SubmitMany([.. prompts.Select((p, i) => new GenerationRequest(p)
            {
                MaxTokens = o.GenerateTokens,
                Sampling = sampling,
                Adapters = setOf(i),
            })]);
            var tokens = Task.WhenAll(gens.Select(g => g.CollectAsync())).GetAwaiter().GetResult().Sum(r => r.CompletionTokens);
            return tokens / sw.Elapsed.TotalSeconds;
        }

        // Rounds alternate so that load from other processes affects both figures alike; the first
        // pair warms up and is discarded.
        double baseRate = 0, loraRate = 0;
        for (var rep = 0; rep < o.Repetitions + 1; rep++)
        {
            var b = Round(_ => null);
            var l = Round(i => sets[i % sets.Length]);
            if (rep == 0) continue;
            baseRate = Math.Max(baseRate, b);
            loraRate = Math.Max(loraRate, l);
        }
        output.WriteLine($"base       {baseRate,10:F1} tokens/s  ({o.Streams} streams on the base model)");
        output.WriteLine($"adapters   {loraRate,10:F1} tokens/s  ({o.Streams} streams over {sets.Length} adapters)");
        output.WriteLine($"ratio      {loraRate / baseRate,10:F3}  (target ≥ 0.8)");
        return 0;
    }
}
