using System.Diagnostics;
using Kiln.Engine.Models;
using Kiln.Engine.Sampling;
using Kiln.Engine.Serving;
using Kiln.Engine.Tokenizers;

namespace Kiln.Bench;

/// <summary>Settings of the sampling benchmark: concurrent streams, greedy against sampled decoding.</summary>
public sealed record SamplingBenchOptions
{
    public required string ModelPath { get; init; }
    public int Threads { get; init; } = 2;
    public int Streams { get; init; } = 8;
    public int PromptTokens { get; init; } = 32;
    public int GenerateTokens { get; init; } = 128;
    public int Repetitions { get; init; } = 5;
    /// <summary>Only the sampler by itself, not the model's streams (the model gives the vocabulary size).</summary>
    public bool SamplerOnly { get; init; }
    public KvCacheType KvCacheType { get; init; } = KvCacheType.F16;
}

/// <summary>
/// What sampling costs the scheduler: aggregate generation throughput of concurrent streams decoding
/// greedily, then with temperature and each filter (top_p, min_p, top_k), in the same continuous batch.
/// </summary>
public static class SamplingBench
{
    private static readonly (string Name, SamplingParams Params)[] Settings =
    [
        ("greedy", SamplingParams.Greedy),
        ("temperature 0.8", new() { Temperature = 0.8f }),
        ("t 0.8, top_p 0.95", new() { Temperature = 0.8f, TopP = 0.95f }),
        ("t 0.8, min_p 0.05", new() { Temperature = 0.8f, MinP = 0.05f }),
        ("t 0.8, top_k 40", new() { Temperature = 0.8f, TopK = 40 }),
    ];

    public static int Run(SamplingBenchOptions o, TextWriter output)
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
        output.WriteLine($"model      {Path.GetFileName(o.ModelPath)}  ({model.Config.BlockCount} layers, dim {model.Config.EmbeddingLength}, vocab {model.Info.VocabSize})");
        if (o.SamplerOnly)
        {
            SamplerAlone(model.Info.VocabSize, output);
            return 0;
        }
        output.WriteLine($"streams    {o.Streams} concurrent, prompt {o.PromptTokens} tokens, {o.GenerateTokens} generated each, {o.Threads} threads, kv cache {o.KvCacheType}, {o.Repetitions} rounds");

        var rng = new Random(1234);
        var prompts = Enumerable.Range(0, o.Streams)
            .Select(_ => Enumerable.Range(0, o.PromptTokens).Select(_ => rng.Next(3, model.Info.VocabSize)).ToArray()).ToArray();
        output.WriteLine($"model's next-token distributions: top_p 0.95 keeps {ModelNucleus(model, prompts)} of {model.Info.VocabSize} tokens (median over the prompts' positions)");

        using var scheduler = new Scheduler(model, tokenizer, new SchedulerOptions { MaxBatchSize = o.Streams, PrefillChunk = 256 });

        double Round(SamplingParams sampling)
        {
            var sw = Stopwatch.StartNew();
            var gens = scheduler.SubmitMany([.. prompts.Select((p, i) => new GenerationRequest(p)
            {
                MaxTokens = o.GenerateTokens,
                // Every stream generates exactly the requested length. ignore_eos rather than a logit bias on
                // the end tokens, as a client would ask: a bias makes the sampler copy the logits first.
                IgnoreEos = true,
                Sampling = sampling with { Seed = (ulong)i + 1 },
            })]);
            var tokens = Task.WhenAll(gens.Select(g => g.CollectAsync())).GetAwaiter().GetResult().Sum(r => r.CompletionTokens);
            return tokens / sw.Elapsed.TotalSeconds;
        }

        // Each round runs greedy before and after every other setting (G S1 G S2 ... G), and a setting's cost
        // in that round is against the mean of the two greedy runs beside it: on a shared machine the load
        // drifts within a round, and a cost taken from neighbours in time cancels most of the drift that a
        // ratio of medians over whole rounds keeps. The first round warms up and is discarded.
        var rates = Settings.Select(_ => new List<double>()).ToArray();
        var costs = Settings.Select(_ => new List<double>()).ToArray();
        for (var rep = 0; rep < o.Repetitions + 1; rep++)
        {
            var before = Round(Settings[0].Params);
            if (rep > 0) rates[0].Add(before);
            for (var s = 1; s < Settings.Length; s++)
            {
                var rate = Round(Settings[s].Params);
                var after = Round(Settings[0].Params);
                if (rep > 0)
                {
                    rates[s].Add(rate);
                    rates[0].Add(after);
                    costs[s].Add(1 - rate / ((before + after) / 2));
                }
                before = after;
            }
        }
        for (var s = 0; s < Settings.Length; s++)
        {
            var cost = s == 0 ? "" : $"  cost {100 * Median(costs[s]),5:F1}% (rounds {100 * costs[s].Min():F1} to {100 * costs[s].Max():F1}%)";
            output.WriteLine($"{Settings[s].Name,-18} {Median(rates[s]),9:F1} tokens/s (median; {rates[s].Min():F1}-{rates[s].Max():F1}){cost}");
        }
        SamplerAlone(model.Info.VocabSize, output);
        return 0;
    }

    /// <summary>
    /// The sampler by itself, per call, on Gaussian logits over the model's vocabulary: standard deviation 1
    /// (nearly flat, as the random-weight models' are: the worst case for top_p and min_p) and 5 (peaked, as a
    /// trained model's next-token distributions are). Measured in process CPU time, best of several runs, so
    /// other processes' load on a shared machine moves it far less than the tokens/s above.
    /// </summary>
    private static void SamplerAlone(int vocab, TextWriter output)
    {
        const int sets = 64, warm = 500, calls = 1500, runs = 5;
        float[] scales = [1f, 5f];
        var logits = new float[scales.Length][][];
        for (var s = 0; s < scales.Length; s++)
        {
            var rng = new Random(3);
            logits[s] = new float[sets][];
            for (var k = 0; k < sets; k++)
            {
                logits[s][k] = new float[vocab];
                for (var i = 0; i < vocab; i++)
                    logits[s][k][i] = scales[s] * (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
            }
        }
        output.WriteLine($"sampler alone, {vocab} Gaussian logits, process CPU time per call (best of {runs} x {calls} calls):");
        output.WriteLine($"  {"",-22} {"sd 1 (flat)",12} {"sd 5 (peaked)",14}");
        output.WriteLine($"  {"top_p 0.95 keeps",-22} {NucleusSize(logits[0][0], 0.95),12} {NucleusSize(logits[1][0], 0.95),14}");
        using var process = Process.GetCurrentProcess();
        foreach (var (name, p) in Settings.Append(("greedy, top_logprobs 5", SamplingParams.Greedy with { Logprobs = true, TopLogprobs = 5 })))
        {
            var line = $"  {name,-22}";
            for (var s = 0; s < scales.Length; s++)
            {
                var sampler = new Sampler(vocab, p with { Seed = 7 });
                for (var c = 0; c < warm; c++) sampler.Sample(logits[s][c % sets]);
                var best = double.MaxValue;
                for (var run = 0; run < runs; run++)
                {
                    process.Refresh();
                    var start = process.TotalProcessorTime;
                    for (var c = 0; c < calls; c++) sampler.Sample(logits[s][c % sets]);
                    process.Refresh();
                    best = Math.Min(best, (process.TotalProcessorTime - start).TotalMicroseconds / calls);
                }
                line += s == 0 ? $" {best,9:F1} us" : $" {best,11:F1} us";
            }
            output.WriteLine(line);
        }
    }

    /// <summary>
    /// How peaked the model's own next-token distributions are (top_p's work depends on it): the median nucleus
    /// at top_p 0.95 over every position of the prompts, each prompt run through slot 0, which is then cleared.
    /// </summary>
    private static int ModelNucleus(LlamaModel model, int[][] prompts)
    {
        var sizes = new List<double>();
        var batch = new Batch(prompts.Max(p => p.Length));
        foreach (var prompt in prompts)
        {
            batch.Clear();
            for (var i = 0; i < prompt.Length; i++) batch.Add(prompt[i], slot: 0, position: i, wantLogits: true);
            var logits = model.Forward(batch);
            var vocab = model.Info.VocabSize;
            for (var i = 0; i < prompt.Length; i++) sizes.Add(NucleusSize(logits.Slice(i * vocab, vocab).ToArray(), 0.95));
            model.Truncate(0, 0);
        }
        return (int)Median(sizes);
    }

    /// <summary>How many of the most likely tokens it takes to reach <paramref name="topP"/> of the mass at temperature 1.</summary>
    private static int NucleusSize(float[] logits, double topP)
    {
        var max = logits.Max();
        var weights = logits.Select(x => Math.Exp(x - max)).OrderDescending().ToArray();
        var target = topP * weights.Sum();
        double sum = 0;
        for (var i = 0; i < weights.Length; i++)
            if ((sum += weights[i]) >= target) return i + 1;
        return weights.Length;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
