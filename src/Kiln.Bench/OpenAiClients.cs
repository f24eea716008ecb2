using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Kiln.Bench;

/// <summary>
/// Concurrent OpenAI clients: one <c>/v1/completions</c> request per prompt (token ids, temperature 0,
/// <c>ignore_eos</c>, a fixed <c>max_tokens</c>), all sent at once, plain or streamed.
/// </summary>
internal static class OpenAiClients
{
    /// <summary>The request bodies, built once so a round times only the requests.</summary>
    public static string[] Bodies(IReadOnlyList<int[]> prompts, int maxTokens, bool stream) =>
        [.. prompts.Select(p =>
            $$"""{"model":"bench","prompt":[{{string.Join(',', p)}}],"max_tokens":{{maxTokens}},"temperature":0,"ignore_eos":true,"stream":{{(stream ? "true" : "false")}}{{(stream ? ",\"stream_options\":{\"include_usage\":true}" : "")}}}""")];

    /// <summary>Sends every body at once; returns aggregate completion tokens/s and each answer's text.</summary>
    public static async Task<(double TokensPerSecond, string[] Texts)> RoundAsync(HttpClient http, string[] bodies, bool stream)
    {
        var sw = Stopwatch.StartNew();
        var answers = await Task.WhenAll(bodies.Select(b => Task.Run(() => stream ? StreamAsync(http, b) : CompleteAsync(http, b))));
        var elapsed = sw.Elapsed.TotalSeconds;
        return (answers.Sum(a => a.Tokens) / elapsed, [.. answers.Select(a => a.Text)]);
    }

    private static async Task<(int Tokens, string Text)> CompleteAsync(HttpClient http, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var r = await http.PostAsync("v1/completions", content);
        var bytes = await r.Content.ReadAsByteArrayAsync();
        if (!r.IsSuccessStatusCode) throw new InvalidOperationException($"HTTP {(int)r.StatusCode}: {Encoding.UTF8.GetString(bytes)}");
        using var doc = JsonDocument.Parse(bytes);
        var root = doc.RootElement;
        return (root.GetProperty("usage").GetProperty("completion_tokens").GetInt32(),
            root.GetProperty("choices")[0].GetProperty("text").GetString()!);
    }

    private static async Task<(int Tokens, string Text)> StreamAsync(HttpClient http, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        using var r = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (!r.IsSuccessStatusCode) throw new InvalidOperationException($"HTTP {(int)r.StatusCode}: {await r.Content.ReadAsStringAsync()}");
        using var reader = new StreamReader(await r.Content.ReadAsStreamAsync());
        var text = new StringBuilder();
        var tokens = -1;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            var data = line.AsMemory(6);
            if (data.Span.SequenceEqual("[DONE]")) break;
            using var doc = JsonDocument.Parse(data);
            var root = doc.RootElement;
            if (root.TryGetProperty("error", out var error)) throw new InvalidOperationException($"stream failed: {error}");
            var choices = root.GetProperty("choices");
            if (choices.GetArrayLength() > 0) text.Append(choices[0].GetProperty("text").GetString());
            if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                tokens = usage.GetProperty("completion_tokens").GetInt32();
        }
        if (tokens < 0) throw new InvalidOperationException("the stream ended without its usage chunk");
        return (tokens, text.ToString());
    }
}
