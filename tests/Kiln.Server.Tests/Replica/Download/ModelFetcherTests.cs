using Kiln.Core.ModelFiles;
using Kiln.Core.Replicas;
using Kiln.Server.Replica.Download;

namespace Kiln.Server.Tests.Replica.Download;

public sealed class ModelFetcherTests : IDisposable
{
    private readonly string _cache = Path.Combine(Path.GetTempPath(), "kiln-fetch-tests", Guid.NewGuid().ToString("N")[..12]);
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };

    private ModelFetcher Fetcher() => new(_http, maxAttempts: 3, retryDelay: TimeSpan.FromMilliseconds(50));

    private FetchRequest Request(FakeFileServer server, string holder = "r-1", string? token = FakeFileServer.Token, long? max = null) =>
        new(server.Url, server.Sha256, _cache, max, token, holder);

    [Fact]
    public async Task Downloads_into_an_empty_cache_under_its_digest_reporting_progress()
    {
        await using var server = await FakeFileServer.StartAsync(FakeFileServer.RandomBytes(300_000, 1));
        var seen = new List<DownloadProgress>();
        var (path, lease) = await Fetcher().FetchAsync(Request(server), p => { lock (seen) seen.Add(p); }, CancellationToken.None);
        using (lease)
        {
            Assert.Equal(ModelCacheLayout.FileFor(_cache, server.Sha256), path);
            Assert.Equal(server.Content, await File.ReadAllBytesAsync(path));
            Assert.False(File.Exists(ModelCacheLayout.PartialOf(path)));
            Assert.Equal(1, server.Gets);
            Assert.Equal(new DownloadProgress(300_000, 300_000), seen[^1]);
            Assert.True(NodeModelCache.InUse(path));
        }
        Assert.False(NodeModelCache.InUse(path));
    }

    [Fact]
    public async Task An_interrupted_download_resumes_with_a_range_from_where_it_stopped()
    {
        await using var server = await FakeFileServer.StartAsync(FakeFileServer.RandomBytes(200_000, 2));
        server.CutResponses = 1;
        server.CutAfterBytes = 70_000;
        var (path, lease) = await Fetcher().FetchAsync(Request(server), _ => { }, CancellationToken.None);
        lease.Dispose();
        Assert.Equal(server.Content, await File.ReadAllBytesAsync(path));
        Assert.Equal(2, server.Gets);
        Assert.Equal("", server.Ranges[0]);
        // The second request asks only for what the first did not deliver.
        Assert.Matches(@"^bytes=\d+-$", server.Ranges[1]);
        Assert.True(long.Parse(server.Ranges[1][6..^1]) >= 60_000, server.Ranges[1]);
    }

    [Fact]
    public async Task A_checksum_mismatch_fails_with_that_reason_and_leaves_nothing_in_the_cache()
    {
        await using var server = await FakeFileServer.StartAsync(FakeFileServer.RandomBytes(50_000, 3));
        server.Corrupt = FakeFileServer.RandomBytes(50_000, 4);
        var e = await Assert.ThrowsAsync<ModelDownloadException>(() => Fetcher().FetchAsync(Request(server), _ => { }, CancellationToken.None));
        Assert.StartsWith("checksum mismatch", e.Message);
        Assert.Contains(server.Sha256, e.Message);
        var file = ModelCacheLayout.FileFor(_cache, server.Sha256);
        Assert.False(File.Exists(file));
        Assert.False(File.Exists(ModelCacheLayout.PartialOf(file)));
        Assert.False(NodeModelCache.InUse(file));
    }

    [Fact]
    public async Task A_refused_token_fails_at_once_with_the_status()
    {
        await using var server = await FakeFileServer.StartAsync(FakeFileServer.RandomBytes(1000, 5));
        var e = await Assert.ThrowsAsync<ModelDownloadException>(() => Fetcher().FetchAsync(Request(server, token: "wrong"), _ => { }, CancellationToken.None));
        Assert.Contains("HTTP 401", e.Message);
        Assert.Equal(1, server.Gets);
    }

    [Fact]
    public async Task Two_replicas_fetching_the_same_model_at_once_download_it_once_and_a_third_reuses_it()
    {
        await using var server = await FakeFileServer.StartAsync(FakeFileServer.RandomBytes(400_000, 6));
        server.ChunkDelay = TimeSpan.FromMilliseconds(2);
        var waiting = 0;
        var first = Fetcher().FetchAsync(Request(server, "r-1"), _ => { }, CancellationToken.None);
        var second = Fetcher().FetchAsync(Request(server, "r-2"), p => { if (p.Total is null) Interlocked.Increment(ref waiting); }, CancellationToken.None);
        var results = await Task.WhenAll(first, second);
        Assert.Equal(results[0].Path, results[1].Path);
        Assert.Equal(1, server.Gets);
        Assert.True(waiting > 0, "the second replica waited on the lock");
        var (_, third) = await Fetcher().FetchAsync(Request(server, "r-3"), _ => { }, CancellationToken.None);
        Assert.Equal(1, server.Gets);
        foreach (var lease in results.Select(r => r.Lease).Append(third)) lease.Dispose();
    }

    [Fact]
    public async Task Pruning_after_a_download_removes_the_least_recently_used_files_but_never_one_in_use()
    {
        var folder = ModelCacheLayout.FolderOf(_cache);
        Directory.CreateDirectory(folder);
        string Cached(char c, int minutesAgo)
        {
            var path = ModelCacheLayout.FileFor(_cache, new string(c, 64));
            File.WriteAllBytes(path, new byte[100_000]);
            File.SetLastAccessTimeUtc(path, DateTime.UtcNow.AddMinutes(-minutesAgo));
            return path;
        }
        var inUse = Cached('a', 300);
        var old = Cached('b', 200);
        var recent = Cached('c', 100);
        // A lease left by a replica that died holds no lock: it does not protect its file.
        var stale = Cached('d', 400);
        File.WriteAllText(ModelCacheLayout.LeaseOf(stale, "dead-1"), "");
        using var running = new NodeModelCache(_cache).Lease(inUse, "running-1");

        await using var server = await FakeFileServer.StartAsync(FakeFileServer.RandomBytes(100_000, 7));
        var (fresh, lease) = await Fetcher().FetchAsync(Request(server, max: 300_000), _ => { }, CancellationToken.None);
        lease.Dispose();

        Assert.True(File.Exists(inUse), "the file in use stays although it is the oldest but one");
        Assert.True(File.Exists(fresh));
        Assert.True(File.Exists(recent));
        Assert.False(File.Exists(old));
        Assert.False(File.Exists(stale));
        Assert.False(File.Exists(ModelCacheLayout.LeaseOf(stale, "dead-1")));
    }

    public void Dispose()
    {
        _http.Dispose();
        try { Directory.Delete(_cache, recursive: true); } catch (IOException) { }
    }
}
