using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Kiln.Bench;

/// <summary>Settings of <c>kiln bench chat</c>.</summary>
public sealed record ChatBenchOptions
{
    public required string Kiln { get; init; }
    public required string ModelPath { get; init; }
    public int Users { get; init; } = 8;
    public int Turns { get; init; } = 4;
    public int SystemChars { get; init; } = 1500;
    public int AnswerTokens { get; init; } = 32;
}

/// <summary>
/// A multi-turn chat workload through the gateway to a deployment of 2 replicas (one thread each):
/// N conversations at once, each M turns that resend the shared system prompt and the history so far.
/// Run once with the gateway routing by prefix and once by least outstanding requests, each on a
/// fresh server; prints aggregate generated tokens/s, p50/p99 time to first token and the replicas'
/// prefix-cache hit rate for both.
/// </summary>
public static class ChatBench
{
    public static async Task<int> RunAsync(ChatBenchOptions o, TextWriter output)
    {
        output.WriteLine($"kiln bench chat: {Path.GetFileName(o.ModelPath)}, 2 replicas x 1 thread, {o.Users} users x {o.Turns} turns, " +
            $"{o.SystemChars}-character shared system prompt, {o.AnswerTokens} tokens per answer (ignore_eos), streamed; {Environment.ProcessorCount} cores");
        var results = new List<(string Policy, Figures F)>();
        foreach (var policy in new[] { "prefix", "least-outstanding" })
        {
            var f = await RunPolicyAsync(o, policy);
            results.Add((policy, f));
            output.WriteLine($"  {policy,-18} {f.TokensPerSecond,7:F1} tok/s  ttft p50 {f.P50,7:F1} ms  p99 {f.P99,7:F1} ms  prefix-cache hits {f.HitRate * 100,5:F1}% of prompt tokens");
        }
        var (p, l) = (results[0].F, results[1].F);
        output.WriteLine($"  prefix / least-outstanding: throughput {p.TokensPerSecond / l.TokensPerSecond:F2}x, ttft p50 {p.P50 / l.P50:F2}x, p99 {p.P99 / l.P99:F2}x");
        return 0;
    }

    private sealed record Figures(double TokensPerSecond, double P50, double P99, double HitRate);

    private static async Task<Figures> RunPolicyAsync(ChatBenchOptions o, string policy)
    {
        await using var server = await BenchServer.StartAsync(o.Kiln, "--cpu-slots", "2", "--routing", policy);
        await server.ImportAsync("chat", o.ModelPath);
        await server.CreateDeploymentAsync("chat", new
        {
            baseModel = "accounts/default/models/chat",
            acceleratorType = "CPU",
            acceleratorCount = 1,
            minReplicaCount = 2,
            maxReplicaCount = 2,
        });
        const string deployment = "accounts/default/deployments/chat";
        await server.WaitAsync(deployment, d => BenchServer.ReadyPorts(d).Count == 2, TimeSpan.FromMinutes(5), "2 READY replicas");
        await Task.Delay(1500); // the gateway's replica directory refreshes every second

        var rng = new Random(7);
        var words = "the a little big red dog cat girl boy park tree sun moon happy sad ran jumped saw found played friend home day".Split(' ');
        string Sentence(int chars)
        {
            var sb = new StringBuilder();
            while (sb.Length < chars) sb.Append(words[rng.Next(words.Length)]).Append(' ');
            return sb.ToString(0, chars);
        }
        var system = Sentence(o.SystemChars);
        var questions = Enumerable.Range(0, o.Users).Select(_ => Enumerable.Range(0, o.Turns).Select(_ => Sentence(120)).ToArray()).ToArray();

        var ttfts = new List<double>();
        long tokens = 0;
        var start = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, o.Users).Select(async u =>
        {
            var messages = new List<object> { new { role = "system", content = system } };
            for (var t = 0; t < o.Turns; t++)
            {
                messages.Add(new { role = "user", content = $"User {u}: {questions[u][t]}" });
                var (ttft, text, n) = await TurnAsync(server.Http, deployment, messages, o.AnswerTokens);
                messages.Add(new { role = "assistant", content = text });
                lock (ttfts) ttfts.Add(ttft);
                Interlocked.Add(ref tokens, n);
            }
        }));
        var elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var (hit, queried) = await PrefixTokensAsync(server.Http, deployment);
        return new Figures(tokens / elapsed, GatewayBench.Percentile(ttfts, 50), GatewayBench.Percentile(ttfts, 99), queried == 0 ? 0 : (double)hit / queried);
    }

    /// <summary>One streamed turn: time to the first content, the answer's text, and its tokens (from usage).</summary>
    private static async Task<(double Ttft, string Text, int Tokens)> TurnAsync(HttpClient http, string model, List<object> messages, int maxTokens)
    {
        var body = JsonSerializer.Serialize(new
        {
            model,
            messages,
            max_tokens = maxTokens,
            temperature = 0,
            ignore_eos = true,
            stream = true,
            stream_options = new { include_usage = true },
        });
        var start = Stopwatch.GetTimestamp();
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        double? ttft = null;
        var text = new StringBuilder();
        var tokens = 0;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (!line.StartsWith("data: {", StringComparison.Ordinal)) continue;
            using var doc = JsonDocument.Parse(line.AsMemory(6));
            var root = doc.RootElement;
            if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                tokens = usage.GetProperty("completion_tokens").GetInt32();
            if (root.GetProperty("choices") is { ValueKind: JsonValueKind.Array } choices && choices.GetArrayLength() > 0
                && choices[0].GetProperty("delta").TryGetProperty("content", out var content) && content.GetString() is { Length: > 0 } piece)
            {
                ttft ??= Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                text.Append(piece);
            }
        }
        return (ttft ?? Stopwatch.GetElapsedTime(start).TotalMilliseconds, text.ToString(), tokens);
    }

    /// <summary>Prompt tokens the deployment's replicas took from their prefix caches, and all they looked up.</summary>
    private static async Task<(long Hit, long Queried)> PrefixTokensAsync(HttpClient http, string deployment)
    {
        var text = await http.GetStringAsync("metrics");
        long Sum(string family) => Regex.Matches(text, "^" + family + Regex.Escape($"{{deployment=\"{deployment}\",") + "[^}]*\\} (\\d+)", RegexOptions.Multiline)
            .Sum(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        return (Sum("kiln_prefix_cache_hit_tokens_total"), Sum("kiln_prefix_cache_query_tokens_total"));
    }
}
