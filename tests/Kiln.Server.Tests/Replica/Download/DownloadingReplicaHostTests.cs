using System.Text.Json;
using Kiln.Core.ModelFiles;
using Kiln.Core.Replicas;
using Kiln.Server.Replica;

namespace Kiln.Server.Tests.Replica.Download;

/// <summary>A replica given <c>--model-url</c>: /health while it downloads, then loads what it fetched, or fails saying why.</summary>
public sealed class DownloadingReplicaHostTests : IDisposable
{
    private readonly string _cache = Path.Combine(Path.GetTempPath(), "kiln-fetch-tests", Guid.NewGuid().ToString("N")[..12]);

    private ReplicaOptions Options(FakeFileServer server) => ReplicaOptions.From(new ReplicaArgs
    {
        ModelPath = ModelCacheLayout.FileFor(_cache, server.Sha256),
        Port = 0,
        ModelUrl = server.Url.ToString(),
        ModelSha256 = server.Sha256,
        ModelCache = _cache,
        ReplicaId = "r-test",
    }) with
    {
        ModelToken = FakeFileServer.Token,
        WarmupBudget = TimeSpan.Zero,
    };

    private static async Task<JsonElement> HealthAsync(RunningReplica replica)
    {
        using var http = new HttpClient { BaseAddress = replica.BaseAddress };
        using var response = await http.GetAsync("/health");
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        Assert.Equal((int)response.StatusCode, body.GetProperty("status").GetString() == "ok" ? 200 : 503);
        return body;
    }

    [Fact]
    public async Task Health_reports_the_download_with_progress_then_the_replica_loads_the_fetched_file()
    {
        await using var server = await FakeFileServer.StartAsync(FakeFileServer.RandomBytes(200_000, 11));
        server.ChunkDelay = TimeSpan.FromMilliseconds(5);
        byte[]? loaded = null;
        await using var replica = await ReplicaHost.StartAsync(Options(server), o =>
        {
            loaded = File.ReadAllBytes(o.ModelPath);
            return (new FakeModel(256, 8), new FakeTokenizer(), new LastMessageFormatter());
        });
        var seen = await Wait(async () =>
        {
            var h = await HealthAsync(replica);
            return h.GetProperty("status").GetString() == "downloading" && h.GetProperty("downloadedBytes").GetInt64() > 0 ? h : (JsonElement?)null;
        });
        Assert.Equal(200_000, seen.GetProperty("totalBytes").GetInt64());
        await replica.Loading;
        Assert.Null(replica.LoadError);
        Assert.Equal("ok", (await HealthAsync(replica)).GetProperty("status").GetString());
        Assert.Equal(server.Content, loaded);
        Assert.True(Kiln.Server.Replica.Download.NodeModelCache.InUse(ModelCacheLayout.FileFor(_cache, server.Sha256)), "the running replica holds a lease");
    }

    [Fact]
    public async Task A_checksum_mismatch_fails_the_replica_with_that_reason()
    {
        await using var server = await FakeFileServer.StartAsync(FakeFileServer.RandomBytes(20_000, 12));
        server.Corrupt = FakeFileServer.RandomBytes(20_000, 13);
        var loads = 0;
        await using var replica = await ReplicaHost.StartAsync(Options(server), _ =>
        {
            loads++;
            return (new FakeModel(256, 8), new FakeTokenizer(), new LastMessageFormatter());
        });
        await replica.Loading;
        Assert.Equal(0, loads);
        var health = await HealthAsync(replica);
        Assert.Equal("error", health.GetProperty("status").GetString());
        Assert.StartsWith("checksum mismatch", health.GetProperty("error").GetString());
    }

    private static async Task<JsonElement> Wait(Func<Task<JsonElement?>> probe)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (await probe() is { } found) return found;
            await Task.Delay(20);
        }
        throw new TimeoutException("the replica never reported its download");
    }

    public void Dispose()
    {
        try { Directory.Delete(_cache, recursive: true); } catch (IOException) { }
    }
}
