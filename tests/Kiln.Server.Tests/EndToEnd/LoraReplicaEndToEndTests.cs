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
/// A real replica serving stories260K with two LoRA adapters beside the base: each model name gets its
/// own answer even when all are streamed concurrently, bad adapters are refused, and unloading an
/// adapter under traffic loses no request.
/// </summary>
[Collection("replica process")]
public sealed class LoraReplicaEndToEndTests : IAsyncLifetime
{
    private const string Base = "stories260K";
    private const string Qv = "accounts/a/models/qv";
    private const string All = "accounts/a/models/all";

    private ReplicaProcess? _replica;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(120) };

    private static string Lora(string file) => SharedFiles.GoldenFile("lora", file);

    public async Task InitializeAsync()
    {
        if (SharedFiles.Root is null) return;
        _replica = await ReplicaProcess.StartAsync(new ReplicaArgs
        {
            ModelPath = SharedFiles.Model("stories260K.gguf"),
            ModelName = Base,
            MaxBatchSize = 8,
            WorldSize = 2,
            Adapters = [$"{Qv}={Lora("stories260K-lora-qv-r4.gguf")}:1.0"],
        });
        _http.BaseAddress = _replica.BaseAddress;
        var r = await _http.PostAsJsonAsync("/v1/adapters", new { name = All, path = Lora("stories260K-lora-all-r8-peft") });
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        if (_replica is not null) await _replica.DisposeAsync();
    }

    private ChatClient Chat(string model) =>
        new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(_replica!.BaseAddress, "/v1") })
            .GetChatClient(model);

    private static readonly ChatCompletionOptions Greedy = new() { MaxOutputTokenCount = 24, Temperature = 0 };

    private async Task<string> StreamAsync(string model, string prompt)
    {
        var text = new StringBuilder();
        await foreach (var update in Chat(model).CompleteChatStreamingAsync([new UserChatMessage(prompt)], Greedy))
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
        return text.ToString();
    }

    private async Task<string> CompleteAsync(string model, string prompt, int maxTokens, bool ignoreEos = false)
    {
        var r = await _http.PostAsJsonAsync("/v1/completions", new { model, prompt, max_tokens = maxTokens, temperature = 0, ignore_eos = ignoreEos });
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.OK, body);
        using var doc = JsonDocument.Parse(body);
        Assert.Equal(model, doc.RootElement.GetProperty("model").GetString());
        return doc.RootElement.GetProperty("choices")[0].GetProperty("text").GetString()!;
    }

    [SharedFact]
    public async Task EachModelNameAnswersWithItsOwnAdapter()
    {
        // The llama.cpp reference continuations of "Once upon a time" (LoRA goldens).
        Assert.StartsWith(", there was a little girl named Lily.", await CompleteAsync(Base, "Once upon a time", 32));
        Assert.Equal(", there was a little grayrgarrarrard. He lived in a big house with a big brow", await CompleteAsync(Qv, "Once upon a time", 32));
        Assert.Equal(", there was a little girl named Grass. Ghal was a little girl named Gra", await CompleteAsync(All, "Once upon a time", 32));

        using var doc = JsonDocument.Parse(await _http.GetStringAsync("/v1/models"));
        var ids = doc.RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()!).ToArray();
        Assert.Equal(new[] { Base, All, Qv }, ids);
    }

    [SharedFact]
    public async Task ConcurrentStreamsForBaseAndAdaptersMatchEachAlone()
    {
        string[] models = [Base, Qv, All];
        string[] prompts = ["Tell me a story", "Once upon a time"];
        var alone = new Dictionary<(string, string), string>();
        foreach (var m in models)
            foreach (var p in prompts)
                alone[(m, p)] = await StreamAsync(m, p);
        Assert.Equal(6, alone.Values.Distinct().Count()); // every adapter changes the output

        var jobs = (from round in Enumerable.Range(0, 2) from m in models from p in prompts select (m, p)).ToArray();
        var answers = await Task.WhenAll(jobs.Select(j => StreamAsync(j.m, j.p)));
        for (var i = 0; i < jobs.Length; i++) Assert.Equal(alone[jobs[i]], answers[i]);
    }

    [SharedFact]
    public async Task BadAdaptersAreRefused()
    {
        var mismatch = await _http.PostAsJsonAsync("/v1/adapters", new { name = "accounts/a/models/bad", path = Lora("mismatch-lora.gguf") });
        Assert.Equal(HttpStatusCode.BadRequest, mismatch.StatusCode);
        var message = JsonDocument.Parse(await mismatch.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("message").GetString();
        Assert.Contains("'blk.0.attn_q.weight'", message);
        Assert.Contains("[128, 128]", message);
        Assert.Contains("[64, 64]", message);

        Assert.Equal(HttpStatusCode.Conflict, (await _http.PostAsJsonAsync("/v1/adapters", new { name = Qv, path = Lora("stories260K-lora-qv-r4.gguf") })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _http.PostAsJsonAsync("/v1/adapters", new { name = "x", path = "/nonexistent/adapter.gguf" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _http.DeleteAsync("/v1/adapters/accounts/a/models/none")).StatusCode);
    }

    private async Task<JsonElement?> Adapter(string name)
    {
        using var doc = JsonDocument.Parse(await _http.GetStringAsync("/v1/adapters"));
        foreach (var a in doc.RootElement.GetProperty("data").EnumerateArray())
            if (a.GetProperty("name").GetString() == name) return a.Clone();
        return null;
    }

    [SharedFact]
    public async Task UnloadDuringTrafficLosesNoRequest()
    {
        const string name = "accounts/a/models/temp";
        Assert.Equal(HttpStatusCode.OK, (await _http.PostAsJsonAsync("/v1/adapters", new { name, path = Lora("stories260K-lora-all-r8.gguf") })).StatusCode);
        // Every request generates all 300 tokens (no early end of text), so they are still running
        // when the loop below looks, however fast the machine.
        var expected = await CompleteAsync(name, "Once upon a time", 300, ignoreEos: true);

        // Unload only once every request has reached the replica (in flight or already done): one
        // still on its way would rightly be refused. On a loaded machine a poll can be slower than
        // a whole round of requests, so a round that ended unseen is checked and sent again.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        Task<string>[] traffic;
        while (true)
        {
            traffic = Enumerable.Range(0, 6).Select(_ => CompleteAsync(name, "Once upon a time", 300, ignoreEos: true)).ToArray();
            if (await AllSeenInFlightAsync(name, traffic, deadline))
                break;
            Assert.All(await Task.WhenAll(traffic), a => Assert.Equal(expected, a));
            Assert.True(DateTime.UtcNow < deadline, "no round of requests was ever seen in flight");
        }
        var unload = _http.DeleteAsync("/v1/adapters/" + name);
        // While in-flight requests finish, the name takes no new ones.
        while (!unload.IsCompleted && await Adapter(name) is { } a && a.GetProperty("state").GetString() != "unloading")
        {
            Assert.True(DateTime.UtcNow < deadline, "the adapter never started unloading");
            await Task.Delay(5);
        }
        if (!unload.IsCompleted)
        {
            var late = await _http.PostAsJsonAsync("/v1/completions", new { model = name, prompt = "Once", max_tokens = 4 });
            Assert.True(late.StatusCode == HttpStatusCode.NotFound || unload.IsCompleted, $"{late.StatusCode}");
        }
        Assert.All(await Task.WhenAll(traffic), a => Assert.Equal(expected, a));
        Assert.Equal(HttpStatusCode.OK, (await unload).StatusCode);

        using var doc = JsonDocument.Parse(await _http.GetStringAsync("/v1/adapters"));
        Assert.DoesNotContain(name, doc.RootElement.GetProperty("data").EnumerateArray().Select(a => a.GetProperty("name").GetString()));
        // The name is unknown now, so it runs the base model like any other unknown name.
        Assert.Equal(await StreamAsync(Base, "Once upon a time"), await StreamAsync(name, "Once upon a time"));
    }

    /// <summary>True once every request is in flight or done with at least one in flight; false when all ended unseen.</summary>
    private async Task<bool> AllSeenInFlightAsync(string adapter, Task<string>[] traffic, DateTime deadline)
    {
        while (true)
        {
            var done = traffic.Count(t => t.IsCompleted); // read before the count of active ones
            var active = await Adapter(adapter) is { } a ? a.GetProperty("active_requests").GetInt32() : 0;
            if (active > 0 && done + active >= traffic.Length) return true;
            if (done == traffic.Length) return false;
            Assert.True(DateTime.UtcNow < deadline, "the requests were never all seen in flight");
            await Task.Delay(5);
        }
    }
}
