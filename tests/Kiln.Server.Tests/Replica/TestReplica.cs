using System.Net.Http.Json;
using System.Text.Json;
using Kiln.Server.Replica;

namespace Kiln.Server.Tests.Replica;

/// <summary>An in-process replica on a free loopback port, serving <see cref="FakeModel"/>.</summary>
internal sealed class TestReplica : IAsyncDisposable
{
    private TestReplica(RunningReplica replica, FakeModel model)
    {
        Replica = replica;
        Model = model;
        Http = new HttpClient { BaseAddress = replica.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public RunningReplica Replica { get; }
    public FakeModel Model { get; }
    public HttpClient Http { get; }
    public Uri BaseAddress => Replica.BaseAddress;

    public static async Task<TestReplica> StartAsync(
        int maxBatch = 8, int maxQueue = 64, int contextLength = 256, ManualResetEventSlim? loadGate = null, long? maxBodyBytes = null,
        TimeSpan? warmup = null)
    {
        var model = new FakeModel(contextLength, maxBatch);
        var options = new ReplicaOptions
        {
            ModelPath = "/models/fake-model.gguf",
            Port = 0,
            MaxBatchSize = maxBatch,
            MaxQueue = maxQueue,
            MaxBodyBytes = maxBodyBytes,
            // Off unless asked: tests read the fake model's steps, and it has no hot paths to compile.
            WarmupBudget = warmup ?? TimeSpan.Zero,
        };
        var replica = await ReplicaHost.StartAsync(options, _ =>
        {
            loadGate?.Wait(TimeSpan.FromSeconds(30));
            return (model, new FakeTokenizer(), new LastMessageFormatter());
        });
        if (loadGate is null) await replica.Loading;
        return new TestReplica(replica, model);
    }

    public async Task<(int Status, JsonElement Body)> PostAsync(string path, string json)
    {
        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        using var response = await Http.PostAsync(path, content);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    public Task<(int Status, JsonElement Body)> PostAsync(string path, object body) =>
        PostAsync(path, JsonSerializer.Serialize(body));

    /// <summary>Posts a streaming request and returns the SSE data payloads in order.</summary>
    public async Task<List<string>> StreamAsync(string path, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        using var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.All(events, e => Assert.StartsWith("data: ", e));
        return [.. events.Select(e => e["data: ".Length..])];
    }

    public async Task<string> MetricsAsync() => await Http.GetStringAsync("/metrics");

    public async ValueTask DisposeAsync()
    {
        Model.Gate.Set();
        Http.Dispose();
        await Replica.DisposeAsync();
    }
}
