using Kiln.Engine.Lora;
using Kiln.Engine.Models;

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
        using var rounds = new SchedulerRounds(o.ModelPath, o.Threads, o.Streams, o.PromptTokens, o.GenerateTokens, o.KvCacheType);
        var model = rounds.Model;
        var adapters = o.LoraPaths.Count > 0
            ? o.LoraPaths.Select(p => LoraAdapter.Load(p, model.Config)).ToArray()
            : Enumerable.Range(0, o.Adapters).Select(i => SyntheticLora.Create(model, o.Rank, seed: 100 + i)).ToArray();
        var sets = adapters.Select(a => LoraSet.Single(model.RegisterAdapter(a))).ToArray();

        output.WriteLine($"model      {Path.GetFileName(o.ModelPath)}  ({model.Config.BlockCount} layers, dim {model.Config.EmbeddingLength}, vocab {model.Info.VocabSize})");
        output.WriteLine($"adapters   {adapters.Length}: {string.Join("; ", adapters.Select(a => a.ToString()))}");
        output.WriteLine($"streams    {o.Streams} concurrent, prompt {o.PromptTokens} tokens, {o.GenerateTokens} generated each, {o.Threads} threads, kv cache {o.KvCacheType}, best of {o.Repetitions}");

        // Rounds alternate so that load from other processes affects both figures alike; the first
        // pair warms up and is discarded.
        double baseRate = 0, loraRate = 0;
        for (var rep = 0; rep < o.Repetitions + 1; rep++)
        {
            var b = rounds.Round().TokensPerSecond;
            var l = rounds.Round(i => sets[i % sets.Length]).TokensPerSecond;
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
