using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Kiln.ControlPlane.Tests;

/// <summary>Raw calls to the gateway's inference routes, streaming ones read event by event.</summary>
public sealed class Inference(Uri baseUri, string key) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = baseUri, Timeout = TimeSpan.FromMinutes(2) };

    public sealed record Streamed(HttpStatusCode Status, string Text, bool Done, JsonElement? Usage, int Events, string Raw);

    public async Task<Streamed> StreamAsync(string path, object body, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        var raw = new StringBuilder();
        var text = new StringBuilder();
        JsonElement? usage = null;
        var done = false;
        var events = 0;
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            raw.AppendLine(line);
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            events++;
            var data = line["data: ".Length..];
            if (data == "[DONE]") { done = true; continue; }
            var chunk = JsonDocument.Parse(data).RootElement;
            if (chunk.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object) usage = u.Clone();
            if (chunk.TryGetProperty("choices", out var choices))
            {
                foreach (var c in choices.EnumerateArray())
                {
                    if (c.TryGetProperty("text", out var t)) text.Append(t.GetString());
                    if (c.TryGetProperty("delta", out var d) && d.TryGetProperty("content", out var dc)) text.Append(dc.GetString());
                }
            }
        }
        return new Streamed(response.StatusCode, text.ToString(), done, usage, events, raw.ToString());
    }

    public async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseHeaders Headers)> PostAsync(string path, object body, string? withKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", withKey ?? key);
        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone(), response.Headers);
    }

    /// <summary>Sum of a metric over a replica's own /metrics (all label sets).</summary>
    public static async Task<double> ReplicaMetricAsync(int port, string name)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var text = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
        return text.Split('\n')
            .Where(l => l.StartsWith(name, StringComparison.Ordinal) && (l.Length == name.Length || l[name.Length] is ' ' or '{'))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Asserts an OpenAI-shaped error body.</summary>
    public static void AssertOpenAiError(JsonElement body, string? code)
    {
        var error = body.GetProperty("error");
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()), body.ToString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("type").GetString()), body.ToString());
        Assert.True(error.TryGetProperty("param", out _), body.ToString());
        Assert.Equal(code, error.GetProperty("code").GetString());
    }

    public void Dispose() => _http.Dispose();
}
