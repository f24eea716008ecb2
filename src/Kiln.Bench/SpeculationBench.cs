using System.Diagnostics;
using Kiln.Engine.Models;
using Kiln.Engine.Sampling;
using Kiln.Engine.Serving;
using Kiln.Engine.Serving.Speculation;
using Kiln.Engine.Tokenizers;

namespace Kiln.Bench;

/// <summary>Settings of a speculative decoding benchmark run.</summary>
public sealed record SpeculationBenchOptions
{
    /// <summary>A repetitive workload: a passage that the continuation tends to repeat, as editing or quoting a given text does.</summary>
    public const string DefaultPrompt =
        "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. " +
        "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day,";

    public required string ModelPath { get; init; }
    public string? DraftModelPath { get; init; }
    public string Prompt { get; init; } = DefaultPrompt;
    public int Threads { get; init; } = 2;
    public int Streams { get; init; } = 1;
    public int GenerateTokens { get; init; } = 128;
    public int DraftTokens { get; init; } = 4;
    public int NgramLength { get; init; } = 3;
    public int Repetitions { get; init; } = 3;
    public KvCacheType KvCacheType { get; init; } = KvCacheType.F16;
}

/// <summary>
/// Greedy generation tokens/s of one workload without speculation, with n-gram speculation and (given
/// a draft model) with draft-model speculation, each with its acceptance rate, tokens per target
/// pass and ratio to no speculation; and whether every mode produced the same text (greedy
/// speculation must not change it).
/// </summary>
public static class SpeculationBench
{
    public static int Run(SpeculationBenchOptions o, TextWriter output)
    {
        using var target = Open(o.ModelPath, o, out var context);
        using var draft = o.DraftModelPath is { } d ? Open(d, o, out _) : null;
        var tokenizer = TokenizerFactory.FromGguf(target.File);
        var prompt = tokenizer.Encode(o.Prompt, addSpecial: true, parseSpecial: false);
        if (prompt.Length + o.GenerateTokens > context)
            throw new ArgumentException($"the prompt ({prompt.Length} tokens) and -n {o.GenerateTokens} exceed the context of {context}");

        output.WriteLine($"model: {Path.GetFileName(o.ModelPath)} (vocab {target.Info.VocabSize})" +
            (draft is null ? "" : $", draft: {Path.GetFileName(o.DraftModelPath)}"));
        output.WriteLine($"setup: threads {target.Threads}, streams {o.Streams}, prompt {prompt.Length} tokens, generate {o.GenerateTokens} (greedy), " +
            $"draft tokens {o.DraftTokens}, n-gram {o.NgramLength}, repetitions {o.Repetitions} (median), kv cache {o.KvCacheType}");

        var modes = new List<(string Name, SpeculationOptions? Options)>
        {
            ("none", null),
            ($"n-gram (n={o.NgramLength}, k={o.DraftTokens})", new SpeculationOptions { DraftTokens = o.DraftTokens, NgramLength = o.NgramLength }),
        };
        if (draft is not null)
            modes.Add(($"draft model (k={o.DraftTokens})", new SpeculationOptions { DraftTokens = o.DraftTokens, DraftModel = draft }));

        // Rounds of the modes alternate, so a neighbour's load on a shared machine falls on every mode alike.
        var schedulers = modes.Select(m => new Scheduler(target, tokenizer, new SchedulerOptions
        {
            MaxBatchSize = o.Streams,
            PrefillChunk = 256,
            ContextSize = Math.Min(context, m.Options?.DraftModel?.Info.ContextLength ?? context),
            Speculation = m.Options,
        })).ToArray();
        try
        {
            var rates = modes.Select(_ => new List<double>()).ToArray();
            var texts = new string[modes.Count][];
            for (var rep = 0; rep <= o.Repetitions; rep++) // the first round warms up the JIT and is discarded
            {
                for (var i = 0; i < modes.Count; i++)
                {
                    var (rate, round) = Round(schedulers[i], prompt, o);
                    if (rep == 0) continue;
                    rates[i].Add(rate);
                    texts[i] = round;
                }
            }
            var baseline = Median(rates[0]);
            for (var i = 0; i < modes.Count; i++)
            {
                var rate = Median(rates[i]);
                var line = $"{modes[i].Name,-28} {rate,8:F1} tokens/s  x{rate / baseline:F2}";
                if (schedulers[i].Speculation is { } m)
                {
                    var perPass = m.Drafts == 0 ? 1 : 1 + (double)m.AcceptedTokens / m.Drafts;
                    line += $"  acceptance {m.AcceptanceRate:P0} ({m.AcceptedTokens}/{m.DraftTokens}), {perPass:F2} tokens per verifying pass";
                }
                line += texts[i].SequenceEqual(texts[0]) ? "" : "  OUTPUT DIFFERS";
                output.WriteLine(line);
            }
        }
        finally
        {
            foreach (var s in schedulers) s.Dispose();
        }
        return 0;
    }

    private static LlamaModel Open(string path, SpeculationBenchOptions o, out int context)
    {
        var model = LlamaModel.Load(path, new ModelOptions
        {
            MaxSlots = o.Streams,
            Threads = o.Threads,
            KvCacheType = o.KvCacheType,
            MaxBatchRows = SpeculationOptions.RowsPerStep(o.Streams, 256, new SpeculationOptions { DraftTokens = o.DraftTokens, NgramLength = 1 }),
        });
        context = model.Info.ContextLength;
        return model;
    }

    private static (double Rate, string[] Texts) Round(Scheduler scheduler, int[] prompt, SpeculationBenchOptions o)
    {
        var sw = Stopwatch.StartNew();
        var generations = scheduler.SubmitMany([.. Enumerable.Range(0, o.Streams).Select(_ => new GenerationRequest(prompt)
        {
            MaxTokens = o.GenerateTokens,
            Sampling = SamplingParams.Greedy,
            IgnoreEos = true,
            Stream = false,
        })]);
        var results = Task.WhenAll(generations.Select(g => g.CollectAsync())).GetAwaiter().GetResult();
        return (results.Sum(r => r.CompletionTokens) / sw.Elapsed.TotalSeconds, [.. results.Select(r => r.Text)]);
    }

    private static double Median(List<double> xs)
    {
        var s = xs.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }
}
