using System.Diagnostics;

namespace Kiln.Bench;

/// <summary>Settings of <c>kiln bench serve --http</c>: the serving benchmark's (adapters aside) and the replica to start.</summary>
public sealed record HttpServeBenchOptions
{
    public required ServeBenchOptions Serve { get; init; }

    /// <summary>The kiln executable that serves the replica.</summary>
    public required string Kiln { get; init; }

    /// <summary>The replica's command line (after the executable) for a port; its owner formats it.</summary>
    public required Func<int, IReadOnlyList<string>> ReplicaArguments { get; init; }
}

/// <summary>
/// What serving over HTTP costs: aggregate generation tokens/s of N OpenAI clients against a real
/// <c>kiln replica</c> process (plain and streamed <c>/v1/completions</c>), beside the in-process
/// scheduler's figure for the same model, streams, prompts and token counts, and their ratios.
/// </summary>
public static class HttpServeBench
{
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(10);

    public static async Task<int> RunAsync(HttpServeBenchOptions http, TextWriter output)
    {
        var o = http.Serve;
        using var rounds = new SchedulerRounds(o.ModelPath, o.Threads, o.Streams, o.PromptTokens, o.GenerateTokens, o.KvCacheType);
        await using var replica = await BenchReplica.StartAsync(http.Kiln, http.ReplicaArguments, TimeSpan.FromMinutes(5));
        var model = rounds.Model;
        output.WriteLine($"model        {Path.GetFileName(o.ModelPath)}  ({model.Config.BlockCount} layers, dim {model.Config.EmbeddingLength}, vocab {model.Info.VocabSize})");
        output.WriteLine($"streams      {o.Streams} concurrent, prompt {o.PromptTokens} tokens, {o.GenerateTokens} generated each (ignore_eos, temperature 0), {o.Threads} threads, kv cache {o.KvCacheType}, best of {o.Repetitions} after {WarmUp.TotalSeconds:0} s of warm-up rounds");
        output.WriteLine($"replica      {http.Kiln} {string.Join(' ', http.ReplicaArguments(replica.BaseUri.Port))}");

        var plainBodies = OpenAiClients.Bodies(rounds.Prompts, o.GenerateTokens, stream: false);
        var streamBodies = OpenAiClients.Bodies(rounds.Prompts, o.GenerateTokens, stream: true);
        List<double> local = [], plain = [], streamed = [];
        List<double> localCpu = [], plainCpu = [], streamedCpu = [], plainHttpCpu = [], streamedHttpCpu = [];
        var sameTexts = 0;
        // Both processes run sets of rounds for WarmUp first, until the tiered JIT has recompiled the
        // hot paths (a replica's first seconds of requests cost several times its steady state).
        var warm = Stopwatch.StartNew();
        do
        {
            rounds.Round();
            await OpenAiClients.RoundAsync(replica.Http, plainBodies, stream: false);
            await OpenAiClients.RoundAsync(replica.Http, streamBodies, stream: true);
        }
        while (warm.Elapsed < WarmUp);

        // Rounds alternate so that load from other processes affects every figure alike.
        for (var rep = 0; rep < o.Repetitions; rep++)
        {
            var ownCpu = Process.GetCurrentProcess().TotalProcessorTime;
            var (l, texts) = rounds.Round();
            var lc = Process.GetCurrentProcess().TotalProcessorTime - ownCpu;
            var (replicaCpu, httpCpu) = (replica.CpuTime, replica.NonEngineCpuTime());
            var (p, plainTexts) = await OpenAiClients.RoundAsync(replica.Http, plainBodies, stream: false);
            var (pc, phc) = (replica.CpuTime - replicaCpu, replica.NonEngineCpuTime() - httpCpu);
            var (s, _) = await OpenAiClients.RoundAsync(replica.Http, streamBodies, stream: true);
            var (sc, shc) = (replica.CpuTime - replicaCpu - pc, replica.NonEngineCpuTime() - httpCpu - phc);
            local.Add(l);
            plain.Add(p);
            streamed.Add(s);
            var tokens = (double)o.Streams * o.GenerateTokens;
            localCpu.Add(lc.TotalMicroseconds / tokens);
            plainCpu.Add(pc.TotalMicroseconds / tokens);
            streamedCpu.Add(sc.TotalMicroseconds / tokens);
            if (phc is { } ph && shc is { } sh)
            {
                plainHttpCpu.Add(ph.TotalMicroseconds / tokens);
                streamedHttpCpu.Add(sh.TotalMicroseconds / tokens);
            }
            sameTexts = texts.Zip(plainTexts).Count(t => t.First == t.Second);
        }
        output.WriteLine($"in-process   {Line(local)}  cpu {CpuLine(localCpu)}");
        output.WriteLine($"http         {Line(plain)}  cpu {CpuLine(plainCpu)}  ratio {plain.Max() / local.Max():F3}  (target ≥ 0.9)");
        output.WriteLine($"http stream  {Line(streamed)}  cpu {CpuLine(streamedCpu)}  ratio {streamed.Max() / local.Max():F3}");
        output.WriteLine("             cpu: µs of CPU per generated token (all threads: this process in-process, the replica over HTTP), median");
        if (plainHttpCpu.Count > 0)
            output.WriteLine($"http side    cpu {CpuLine(plainHttpCpu)} plain, {CpuLine(streamedHttpCpu)} streamed: the replica's threads other than the engine's (Kestrel, thread pool, logging)");
        output.WriteLine($"texts        {sameTexts}/{o.Streams} HTTP answers equal the in-process ones (batches differ, so a near tie may not)");
        return 0;
    }

    private static string CpuLine(List<double> us) => $"{us.Order().ElementAt(us.Count / 2),6:F0} µs/token";

    private static string Line(List<double> rates) => $"{rates.Max(),9:F1} tokens/s  (range {rates.Min():F0}-{rates.Max():F0})";
}
