using System.Diagnostics;
using Kiln.Engine.Lora;
using Kiln.Engine.Models;
using Kiln.Engine.Sampling;
using Kiln.Engine.Serving;
using Kiln.Engine.Tokenizers;

namespace Kiln.Bench;

/// <summary>
/// The in-process side of the serving benchmarks: a model and a continuous-batching scheduler in
/// this process, fixed random prompts, and timed rounds in which every stream generates exactly
/// the requested number of tokens at temperature 0.
/// </summary>
public sealed class SchedulerRounds : IDisposable
{
    private readonly Scheduler _scheduler;
    private readonly int _generate;

    public SchedulerRounds(string modelPath, int threads, int streams, int promptTokens, int generateTokens, KvCacheType kvCacheType)
    {
        Model = LlamaModel.Load(modelPath, new ModelOptions
        {
            MaxSlots = streams,
            ContextLength = promptTokens + generateTokens,
            Threads = threads,
            MaxBatchRows = Math.Max(streams, 256),
            KvCacheType = kvCacheType,
        });
        Tokenizer = TokenizerFactory.FromGguf(Model.File);
        _scheduler = new Scheduler(Model, Tokenizer, new SchedulerOptions { MaxBatchSize = streams, PrefillChunk = 256 });
        _generate = generateTokens;
        // Seeded, so the HTTP benchmark can send the very same prompts to a replica.
        var rng = new Random(1234);
        Prompts = [.. Enumerable.Range(0, streams)
            .Select(_ => Enumerable.Range(0, promptTokens).Select(_ => rng.Next(3, Model.Info.VocabSize)).ToArray())];
    }

    public LlamaModel Model { get; }
    public ITokenizer Tokenizer { get; }

    /// <summary>One prompt of token ids per stream.</summary>
    public IReadOnlyList<int[]> Prompts { get; }

    /// <summary>Runs every stream once (stream i with the adapters <paramref name="setOf"/>(i)); returns tokens/s and the texts.</summary>
    public (double TokensPerSecond, string[] Texts) Round(Func<int, LoraSet?>? setOf = null)
    {
        var sw = Stopwatch.StartNew();
        var gens = _scheduler.SubmitMany([.. Prompts.Select((p, i) => new GenerationRequest(p)
        {
            MaxTokens = _generate,
            Sampling = new SamplingParams { Temperature = 0 },
            IgnoreEos = true,
            Stream = false, // collected whole, as a non-streaming HTTP answer is
            Adapters = setOf?.Invoke(i),
        })]);
        var results = Task.WhenAll(gens.Select(g => g.CollectAsync())).GetAwaiter().GetResult();
        var rate = results.Sum(r => r.CompletionTokens) / sw.Elapsed.TotalSeconds;
        return (rate, [.. results.Select(r => r.Text)]);
    }

    public void Dispose()
    {
        _scheduler.Dispose();
        Model.Dispose();
    }
}
