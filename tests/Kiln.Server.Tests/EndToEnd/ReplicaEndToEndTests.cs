using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Kiln.Core.Replicas;
using OpenAI;
using OpenAI.Chat;

namespace Kiln.Server.Tests.EndToEnd;

/// <summary>
/// The real replica process serving a real model, driven over HTTP with the official OpenAI .NET
/// client and plain requests: the output must be the reference greedy continuation.
/// </summary>
[Collection("replica process")]
public sealed class ReplicaEndToEndTests : IAsyncLifetime
{
    private ReplicaProcess? _replica;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };

    // llama.cpp's greedy continuation of "Once upon a time" on stories260K (golden file).
    private const string Continuation = ", there was a little girl named Lily. She loved to play outside in the park.";

    public async Task InitializeAsync()
    {
        if (SharedFiles.Root is null) return;
        _replica = await ReplicaProcess.StartAsync(new ReplicaArgs { ModelPath = SharedFiles.Model("stories260K.gguf"), MaxBatchSize = 4, WorldSize = 1 });
        _http.BaseAddress = _replica.BaseAddress;
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        if (_replica is not null) await _replica.DisposeAsync();
    }

    private OpenAIClient Client() => new(new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(_replica!.BaseAddress, "/v1") });

    [SharedFact]
    public async Task GreedyCompletionIsTheReferenceContinuation()
    {
        var r = await _http.PostAsJsonAsync("/v1/completions", new { model = "m", prompt = "Once upon a time", max_tokens = 20, temperature = 0 });
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
        var choice = doc.RootElement.GetProperty("choices")[0];
        Assert.StartsWith(Continuation[..40], choice.GetProperty("text").GetString());
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(5, doc.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(20, doc.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [SharedFact]
    public async Task OpenAIClientChatPlainAndStreaming()
    {
        var chat = Client().GetChatClient("stories");
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 12, Temperature = 0 };
        ChatCompletion done = await chat.CompleteChatAsync([new UserChatMessage("Tell me a story")], options);
        Assert.Equal(ChatFinishReason.Length, done.FinishReason);
        Assert.Equal(12, done.Usage.OutputTokenCount);
        var plain = done.Content[0].Text;
        Assert.False(string.IsNullOrEmpty(plain));

        var streamed = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Tell me a story")], options))
        {
            foreach (var part in update.ContentUpdate) streamed.Append(part.Text);
            finish ??= update.FinishReason;
        }
        Assert.Equal(plain, streamed.ToString());
        Assert.Equal(ChatFinishReason.Length, finish);
    }

    [SharedFact]
    public async Task SeededSamplingIsReproducible()
    {
        async Task<string> Sample() =>
            JsonDocument.Parse(await (await _http.PostAsJsonAsync("/v1/completions",
                new { prompt = "Lily", max_tokens = 24, temperature = 0.9, top_p = 0.95, seed = 7 })).Content.ReadAsStringAsync())
                .RootElement.GetProperty("choices")[0].GetProperty("text").GetString()!;
        Assert.Equal(await Sample(), await Sample());
    }

    [SharedFact]
    public async Task StopSequenceCutsExactly()
    {
        var r = await _http.PostAsJsonAsync("/v1/completions", new { prompt = "Once upon a time", max_tokens = 40, temperature = 0, stop = new[] { "Lily" } });
        using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
        var choice = doc.RootElement.GetProperty("choices")[0];
        Assert.Equal(", there was a little girl named ", choice.GetProperty("text").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
    }

    [SharedFact]
    public async Task EchoWithLogprobsScoresThePrompt()
    {
        var r = await _http.PostAsJsonAsync("/v1/completions", new { prompt = "Once upon a time", max_tokens = 0, echo = true, logprobs = 3 });
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
        var lp = doc.RootElement.GetProperty("choices")[0].GetProperty("logprobs");
        var tokenLogprobs = lp.GetProperty("token_logprobs").EnumerateArray().ToArray();
        Assert.Equal(5, tokenLogprobs.Length);
        Assert.Equal(JsonValueKind.Null, tokenLogprobs[0].ValueKind);
        Assert.All(tokenLogprobs[1..], t => Assert.True(t.GetDouble() <= 0));
    }

    [SharedFact]
    public async Task BadRequestsGetOpenAIErrors()
    {
        var r = await _http.PostAsync("/v1/completions", new StringContent("{not json", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        using (var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync()))
            Assert.Equal("invalid_request_error", doc.RootElement.GetProperty("error").GetProperty("type").GetString());

        r = await _http.PostAsJsonAsync("/v1/completions", new { prompt = "hi", max_tokens = 100000000 });
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        r = await _http.PostAsJsonAsync("/v1/completions", new { prompt = "hi", stop = 5 });
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        r = await _http.PostAsJsonAsync("/v1/completions", new { prompt = new string('a', 20000) });
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);

        var e = await Assert.ThrowsAsync<ClientResultException>(() =>
            Client().GetChatClient("m").CompleteChatAsync([new UserChatMessage("x")], new ChatCompletionOptions { Temperature = 5 }));
        Assert.Equal(400, e.Status);

        // The server is still healthy after all of that.
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync("/health")).StatusCode);
    }

    [SharedFact]
    public async Task ConcurrentRequestsAllComplete()
    {
        var tasks = Enumerable.Range(0, 6).Select(_ =>
            _http.PostAsJsonAsync("/v1/completions", new { prompt = "Once upon a time", max_tokens = 16, temperature = 0 })).ToArray();
        foreach (var r in await Task.WhenAll(tasks))
        {
            using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
            Assert.StartsWith(Continuation[..30], doc.RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
        }
        var metrics = await _http.GetStringAsync("/metrics");
        Assert.Contains("kiln_batch_occupancy", metrics);
        Assert.Contains("kiln_generated_tokens_total", metrics);
    }

    [SharedFact]
    public async Task ModelsAndHealth()
    {
        using var doc = JsonDocument.Parse(await _http.GetStringAsync("/v1/models"));
        Assert.Equal("list", doc.RootElement.GetProperty("object").GetString());
        Assert.Single(doc.RootElement.GetProperty("data").EnumerateArray());
    }
}

/// <summary>A model that cannot load makes the replica exit non-zero with the reason on stderr.</summary>
[Collection("replica process")]
public sealed class ReplicaLoadFailureTests
{
    [SharedFact]
    public async Task UnloadableModelExitsWithTheReason()
    {
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            ReplicaProcess.StartAsync(new ReplicaArgs { ModelPath = SharedFiles.Model("tinyllamas-stories-260k-f32.gguf") }));
        Assert.Contains("exited with 1", e.Message);
        Assert.Contains("version 1", e.Message);
    }
}
