using System.Diagnostics;
using Kiln.Engine.Models;

namespace Kiln.Bench;

/// <summary>Settings of an engine benchmark run, in the spirit of llama-bench.</summary>
public sealed record EngineBenchOptions
{
    public required string ModelPath { get; init; }
    public int Threads { get; init; } = 2;
    public int PromptTokens { get; init; } = 128;
    public int GenerateTokens { get; init; } = 128;
    public int Repetitions { get; init; } = 5;
    /// <summary>Concurrent sequences decoded together in the batched-generation figure (1 = skip).</summary>
    public int Sequences { get; init; } = 8;
    /// <summary>F16 by default, as llama-bench's, so the figures compare like for like.</summary>
    public KvCacheType KvCacheType { get; init; } = KvCacheType.F16;
}

/// <summary>
/// Measures prompt processing and generation speed of the engine on one model (medians over
/// repetitions), the time from opening the file to the first token, and resident memory.
/// </summary>
public static class EngineBench
{
    public static int Run(EngineBenchOptions o, TextWriter output)
    {
        var sw = Stopwatch.StartNew();
        var ctx = o.PromptTokens + o.GenerateTokens;
        using var model = LlamaModel.Load(o.ModelPath, new ModelOptions
        {
            MaxSlots = Math.Max(1, o.Sequences),
            ContextLength = ctx,
            KvCacheType = o.KvCacheType,
            Threads = o.Threads,
            MaxBatchRows = Math.Max(o.PromptTokens, o.Sequences),
        });
        if (ctx > model.Info.ContextLength)
            throw new ArgumentException($"-p + -n = {ctx} exceeds the model's context of {model.Info.ContextLength}");
        var batch = new Batch(Math.Max(o.PromptTokens, o.Sequences));
        batch.Add(1, 0, 0, true);
        model.Forward(batch);
        var loadToFirstToken = sw.Elapsed.TotalSeconds;

        var rng = new Random(1234);
        var prompt = Enumerable.Range(0, o.PromptTokens).Select(_ => rng.Next(model.Info.VocabSize)).ToArray();
        var pp = new List<double>();
        var tg = new List<double>();
        var tgBatched = new List<double>();
        for (var rep = 0; rep < o.Repetitions + 1; rep++) // the first round warms up the JIT and is discarded
        {
            batch.Clear();
            for (var i = 0; i < prompt.Length; i++) batch.Add(prompt[i], 0, i, i == prompt.Length - 1);
            sw.Restart();
            var logits = model.Forward(batch);
            var ppRate = prompt.Length / sw.Elapsed.TotalSeconds;

            // Generation starts from an empty context, as llama-bench's tg figure does, so the two compare.
            var token = ArgMax(logits[..model.Info.VocabSize]);
            sw.Restart();
            for (var i = 0; i < o.GenerateTokens; i++)
            {
                batch.Clear();
                batch.Add(token, 0, i, true);
                token = ArgMax(model.Forward(batch)[..model.Info.VocabSize]);
            }
            var tgRate = o.GenerateTokens / sw.Elapsed.TotalSeconds;

            double batchedRate = 0;
            if (o.Sequences > 1)
            {
                var tokens = new int[o.Sequences];
                sw.Restart();
                for (var i = 0; i < o.GenerateTokens; i++)
                {
                    batch.Clear();
                    for (var s = 0; s < o.Sequences; s++) batch.Add(tokens[s], s, i, true);
                    var all = model.Forward(batch);
                    for (var s = 0; s < o.Sequences; s++)
                        tokens[s] = ArgMax(all.Slice(s * model.Info.VocabSize, model.Info.VocabSize));
                }
                batchedRate = o.Sequences * o.GenerateTokens / sw.Elapsed.TotalSeconds;
            }
            if (rep == 0) continue;
            pp.Add(ppRate);
            tg.Add(tgRate);
            tgBatched.Add(batchedRate);
        }

        var fileBytes = new FileInfo(o.ModelPath).Length;
        output.WriteLine($"model: {Path.GetFileName(o.ModelPath)} ({model.Config.Architecture}, {fileBytes / 1e6:F1} MB, " +
            $"dim {model.Config.EmbeddingLength}, {model.Config.BlockCount} layers, vocab {model.Info.VocabSize})");
        output.WriteLine($"setup: threads {model.Threads}, prompt {o.PromptTokens}, generate {o.GenerateTokens}, " +
            $"repetitions {o.Repetitions}, kv cache {o.KvCacheType}");
        output.WriteLine($"load to first token: {loadToFirstToken * 1000:F0} ms");
        output.WriteLine($"pp{o.PromptTokens}: {Median(pp):F1} tokens/s");
        output.WriteLine($"tg{o.GenerateTokens}: {Median(tg):F1} tokens/s");
        if (o.Sequences > 1)
            output.WriteLine($"tg{o.GenerateTokens} x{o.Sequences} sequences: {Median(tgBatched):F1} tokens/s total");
        output.WriteLine($"resident memory: {ResidentBytes() / 1e6:F0} MB (model file {fileBytes / 1e6:F0} MB)");
        return 0;
    }

    private static int ArgMax(ReadOnlySpan<float> x)
    {
        var best = 0;
        for (var i = 1; i < x.Length; i++) if (x[i] > x[best]) best = i;
        return best;
    }

    private static double Median(List<double> xs)
    {
        var s = xs.Order().ToArray();
        return s.Length == 0 ? 0 : s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    /// <summary>Resident set size from /proc (Linux); the working set elsewhere.</summary>
    public static long ResidentBytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
        catch (IOException)
        {
        }
        return Environment.WorkingSet;
    }
}
