using System.Diagnostics;
using Kiln.Core.ModelFiles;
using Kiln.Server.Replica.Download;

namespace Kiln.Server.Tests.Replica.Download;

/// <summary>A fact that mounts a filesystem: it runs as root (as CI does) and is skipped, saying why, otherwise.</summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (!OperatingSystem.IsLinux() || !Environment.IsPrivilegedProcess) Skip = "needs root on Linux to mount a small tmpfs as a full disk";
    }
}

/// <summary>A model cache on a 64 KiB tmpfs: a download that does not fit fails the replica saying the disk is full.</summary>
public sealed class FullDiskTests : IDisposable
{
    private readonly string _cache = Path.Combine(Path.GetTempPath(), "kiln-full-disk", Guid.NewGuid().ToString("N")[..12]);
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };

    public FullDiskTests()
    {
        Directory.CreateDirectory(_cache);
        Run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", _cache);
    }

    [RootFact]
    public async Task A_file_larger_than_the_free_space_fails_before_downloading()
    {
        await using var server = await FakeFileServer.StartAsync(FakeFileServer.RandomBytes(200_000, 21));
        var e = await FetchFailsAsync(server);
        Assert.Contains("more bytes", e.Message);
    }

    [RootFact]
    public async Task A_disk_that_fills_up_mid_download_fails_with_no_space_left()
    {
        await using var server = await FakeFileServer.StartAsync(FakeFileServer.RandomBytes(200_000, 22));
        server.OmitLength = true; // no size up front: the write itself runs out of space
        await FetchFailsAsync(server);
    }

    private async Task<ModelDownloadException> FetchFailsAsync(FakeFileServer server)
    {
        var fetcher = new ModelFetcher(_http, maxAttempts: 2, retryDelay: TimeSpan.FromMilliseconds(10));
        var request = new FetchRequest(server.Url, server.Sha256, _cache, null, FakeFileServer.Token, "r-1");
        var e = await Assert.ThrowsAsync<ModelDownloadException>(() => fetcher.FetchAsync(request, _ => { }, CancellationToken.None));
        Assert.StartsWith($"no space left on device for the model cache {ModelCacheLayout.FolderOf(_cache)}", e.Message);
        Assert.False(File.Exists(ModelCacheLayout.FileFor(_cache, server.Sha256)));
        Assert.Equal(1, server.Gets);
        return e;
    }

    private static void Run(string file, params string[] args)
    {
        if (!OperatingSystem.IsLinux() || !Environment.IsPrivilegedProcess) return;
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true })!;
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{file} {string.Join(' ', args)}: {p.StandardError.ReadToEnd()}");
    }

    public void Dispose()
    {
        _http.Dispose();
        Run("umount", _cache);
        try { Directory.Delete(_cache, recursive: true); } catch (IOException) { }
    }
}
