using System.ClientModel;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;

namespace Kiln.ControlPlane.Tests;

/// <summary>The LoRA fixtures, their llama.cpp greedy continuations, and calls on a replica's own port.</summary>
public static class AddonFixtures
{
    public static string Lora(string name) => SharedFiles.GoldenFile("lora", name);

    /// <summary>llama.cpp's greedy 32-token continuation of <paramref name="prompt"/> in a golden file.</summary>
    public static string GreedyText(string golden, string prompt)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Lora(golden)));
        return doc.RootElement.GetProperty("cases").EnumerateArray()
            .First(c => c.GetProperty("prompt").GetString() == prompt).GetProperty("greedy_text").GetString()!;
    }

    /// <summary>A greedy completion from a replica; fails the test on any error.</summary>
    public static Task<string> CompleteAsync(int port, string model, string prompt, int maxTokens) =>
        CompleteAsync(new Uri($"http://127.0.0.1:{port}/v1/"), null, model, prompt, maxTokens);

    /// <summary>A greedy completion from an OpenAI-style endpoint (a replica, or the gateway with a key).</summary>
    public static async Task<string> CompleteAsync(Uri endpoint, string? apiKey, string model, string prompt, int maxTokens)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(120) };
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint, "completions"))
        {
            Content = JsonContent.Create(new { model, prompt, max_tokens = maxTokens, temperature = 0 }),
        };
        if (apiKey is not null) request.Headers.Authorization = new("Bearer", apiKey);
        using var r = await http.SendAsync(request);
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, $"{model} at {endpoint}: {(int)r.StatusCode} {body}");
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.GetProperty("choices")[0].GetProperty("text").GetString()!;
    }

    /// <summary>A streamed greedy chat answer through the OpenAI .NET client.</summary>
    public static async Task<string> StreamChatAsync(Uri endpoint, string apiKey, string model, string prompt)
    {
        var chat = new OpenAIClient(new ApiKeyCredential(apiKey), new OpenAIClientOptions { Endpoint = endpoint }).GetChatClient(model);
        var text = new StringBuilder();
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 24, Temperature = 0 };
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage(prompt)], options))
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
        return text.ToString();
    }

    /// <summary>The adapters a replica holds: name to (state, active requests).</summary>
    public static async Task<Dictionary<string, (string State, int Active)>> AdaptersAsync(int port)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var doc = JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/v1/adapters"));
        return doc.RootElement.GetProperty("data").EnumerateArray().ToDictionary(
            a => a.GetProperty("name").GetString()!,
            a => (a.GetProperty("state").GetString()!, a.GetProperty("active_requests").GetInt32()));
    }
}
