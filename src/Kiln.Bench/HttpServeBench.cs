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
    public static async Task<int> RunAsync(HttpServeBenchOptions http, TextWriter output)
    {
        var o = http.Serve;
        using var rounds = new SchedulerRounds(o.ModelPath, o.Threads, o.Streams, o.PromptTokens, o.GenerateTokens, o.KvCacheType);
        await using var replica = await BenchReplica.StartAsync(http.Kiln, http.ReplicaArguments, TimeSpan.FromMinutes(5));
        var model = rounds.Model;
        output.WriteLine($"model        {Path.GetFileName(o.ModelPath)}  ({model.Config.BlockCount} layers, dim {model.Config.EmbeddingLength}, vocab {model.Info.VocabSize})");
        output.WriteLine($"streams      {o.Streams} concurrent, prompt {o.PromptTokens} tokens, {o.GenerateTokens} generated each (ignore_eos, temperature 0), {o.Threads} threads, kv cache {o.KvCacheType}, best of {o.Repetitions}");
        output.WriteLine($"replica      {http.Kiln} {string.Join(' ', http.ReplicaArguments(replica.BaseUri.Port))}");

        var plainBodies = OpenAiClients.Bodies(rounds.Prompts, o.GenerateTokens, stream: false);
        var streamBodies = OpenAiClients.Bodies(rounds.Prompts, o.GenerateTokens, stream: true);
        List<double> local = [], plain = [], streamed = [];
        var sameTexts = 0;
        // Rounds alternate so that load from other processes affects every figure alike; the first
        // set warms up both processes (JIT, connections) and is discarded.
        for (var rep = 0; rep < o.Repetitions + 1; rep++)
        {
            var (l, texts) = rounds.Round();
            var (p, plainTexts) = await OpenAiClients.RoundAsync(replica.Http, plainBodies, stream: false);
            var (s, _) = await OpenAiClients.RoundAsync(replica.Http, streamBodies, stream: true);
            if (rep == 0) continue;
            local.Add(l);
            plain.Add(p);
            streamed.Add(s);
            sameTexts = texts.Zip(plainTexts).Count(t => t.First == t.Second);
        }
        output.WriteLine($"in-process   {Line(local)}");
        output.WriteLine($"http         {Line(plain)}  ratio {plain.Max() / local.Max():F3}  (target ≥ 0.9)");
        output.WriteLine($"http stream  {Line(streamed)}  ratio {streamed.Max() / local.Max():F3}");
        output.WriteLine($"texts        {sameTexts}/{o.Streams} HTTP answers equal the in-process ones (batches differ, so a near tie may not)");
        return 0;
    }

    private static string Line(List<double> rates) => $"{rates.Max(),9:F1} tokens/s  (range {rates.Min():F0}-{rates.Max():F0})";
}
