using System.Diagnostics;
using System.Runtime;
using Kiln.Engine.Models;
using Kiln.Engine.Sampling;
using Kiln.Engine.Tokenizers;

namespace Kiln.Engine.Serving;

/// <summary>What a <see cref="Warmup"/> did.</summary>
public sealed record WarmupReport(int Rounds, int GeneratedTokens, long MethodsCompiled, TimeSpan Elapsed, bool Settled)
{
    /// <summary>Methods compiled during each round and the pause after it.</summary>
    public IReadOnlyList<long> CompiledPerRound { get; init; } = [];

    public override string ToString() =>
        $"{Rounds} rounds, {GeneratedTokens} tokens, {MethodsCompiled} methods compiled ({string.Join(", ", CompiledPerRound)} per round), {Elapsed.TotalMilliseconds:F0} ms" +
        (Settled ? "" : " (budget spent before the rounds' speed settled)");
}

/// <summary>
/// Runs throwaway generations through a scheduler of the serving shape until the JIT has compiled
/// the hot paths at full optimisation, so the first users after a load do not run on the tiered
/// JIT's unoptimised first versions (measured at a third of warm speed). Each round prefills a
/// full batch and decodes it down from every slot busy to one, greedy and sampled, which reaches
/// the kernels of every batch height; rounds repeat, with pauses for the runtime's background promotion
/// of often-called methods, until a round runs at the speed of the fastest before it, or the budget
/// is spent. Uses its own scheduler, so the serving scheduler's metrics see none of it.
/// </summary>
public static class Warmup
{
    private const int PromptTokens = 8;
    private const int StepsPerSlot = 2;
    private const int MaxRounds = 40;

    // The per-step code (kernels, sampler, scheduler loop) runs dozens of times a round and is promoted
    // within the first rounds; per-request code runs a few times a round and keeps trickling in for a
    // dozen more, which costs microseconds per request. So the warm-up ends on speed, not on the
    // JIT going quiet: once a round runs about as fast as the fastest before it, the hot paths are
    // optimised (a round slowed by a wave of background compiles does not count).
    private const int MinRounds = 3;
    private const double SettledSlowdown = 1.2;
    // Rounds of a tiny model take milliseconds, where scheduling jitter alone exceeds 20%.
    private static readonly TimeSpan TimingSlack = TimeSpan.FromMilliseconds(2);

    // Long enough for the runtime's call-counting delay (100 ms) to pass, so promotions queued by a
    // round are compiled before the next round is judged.
    private static readonly TimeSpan TierUpPause = TimeSpan.FromMilliseconds(150);

    public static WarmupReport Run(ILanguageModel model, ITokenizer tokenizer, SchedulerOptions options, TimeSpan budget, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var startCount = JitInfo.GetCompiledMethodCount();
        using var scheduler = new Scheduler(model, tokenizer, options with { MaxQueue = Math.Max(options.MaxQueue, options.MaxBatchSize) });
        var requests = Requests(model.Info.VocabSize, tokenizer, scheduler.MaxBatchSize, scheduler.ContextSize);
        if (requests.Count == 0) return new WarmupReport(0, 0, 0, clock.Elapsed, Settled: true);

        var rounds = 0;
        var tokens = 0;
        var fastest = TimeSpan.MaxValue;
        var settled = false;
        var compiled = new List<long>();
        while (!settled && rounds < MaxRounds && clock.Elapsed < budget)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var roundStart = Stopwatch.GetTimestamp();
            var compiledBefore = JitInfo.GetCompiledMethodCount();
            var generations = scheduler.SubmitMany(requests, cancellationToken);
            Task.WaitAll(generations.Select(g => g.Finished).ToArray(), cancellationToken);
            var took = Stopwatch.GetElapsedTime(roundStart);
            tokens += generations.Sum(g => g.CompletionTokens);
            rounds++;
            Thread.Sleep(TierUpPause);
            compiled.Add(JitInfo.GetCompiledMethodCount() - compiledBefore);
            settled = rounds >= MinRounds && took <= fastest * SettledSlowdown + TimingSlack;
            fastest = took < fastest ? took : fastest;
        }
        return new WarmupReport(rounds, tokens, JitInfo.GetCompiledMethodCount() - startCount, clock.Elapsed, settled) { CompiledPerRound = compiled };
    }

    /// <summary>
    /// One request per slot with staggered lengths; end-of-generation tokens are banned so each runs
    /// its length. Half are greedy and half sampled, so both sampler paths are compiled. Empty when
    /// the context cannot hold even a short prompt.
    /// </summary>
    private static List<GenerationRequest> Requests(int vocab, ITokenizer tokenizer, int slots, int context)
    {
        var prompt = Math.Min(PromptTokens, context / 2);
        if (prompt < 1) return [];
        var ban = tokenizer.EndOfGenerationIds.Append(tokenizer.EosId ?? -1).Where(id => id >= 0 && id < vocab).Distinct().ToDictionary(id => id, _ => -100f);
        var random = new Random(17);
        var requests = new List<GenerationRequest>(slots);
        for (var i = 0; i < slots; i++)
        {
            var tokens = Enumerable.Range(0, prompt).Select(_ => random.Next(vocab)).ToArray();
            var sampled = i % 2 == 1;
            requests.Add(new GenerationRequest(tokens)
            {
                MaxTokens = Math.Min(StepsPerSlot * (i + 1), context - prompt),
                Sampling = sampled
                    ? new SamplingParams { Temperature = 0.8f, TopP = 0.95f, TopK = 40, MinP = 0.05f, Seed = (ulong)i, LogitBias = ban }
                    : SamplingParams.Greedy with { LogitBias = ban },
            });
        }
        return requests;
    }
}
