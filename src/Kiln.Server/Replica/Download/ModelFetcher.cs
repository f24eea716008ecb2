using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Kiln.Core.ModelFiles;
using Kiln.Core.Replicas;

namespace Kiln.Server.Replica.Download;

/// <summary>What a replica downloads: the file's URL and digest, the node's cache and its bound, and the bearer token.</summary>
public sealed record FetchRequest(Uri Url, string Sha256, string CacheDir, long? CacheMaxBytes, string? Token, string Holder)
{
    /// <summary>Excludes the token, so a logged request does not leak it.</summary>
    public override string ToString() => $"FetchRequest {{ Url = {Url}, Sha256 = {Sha256}, CacheDir = {CacheDir} }}";
}

/// <summary>Why a download failed for good: the replica fails with this message.</summary>
public sealed class ModelDownloadException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Gets a model file into the node's cache: reuses it when present, else downloads it once per
/// node (other replicas wait on the lock and reuse it), into a <c>.partial</c> file that a retry
/// resumes with a Range request after an interruption; checks the SHA-256 before moving it into
/// place, and prunes the cache to its bound afterwards.
/// </summary>
public sealed class ModelFetcher(HttpClient http, int maxAttempts = 5, TimeSpan? retryDelay = null)
{
    private const int ChunkBytes = 1 << 20;
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(60);
    private readonly TimeSpan _retryDelay = retryDelay ?? TimeSpan.FromSeconds(1);

    /// <summary>
    /// Ensures the file is cached and leased by <see cref="FetchRequest.Holder"/>; returns its path
    /// and the lease, which the caller holds while it uses the file.
    /// </summary>
    public async Task<(string Path, IDisposable Lease)> FetchAsync(FetchRequest request, Action<DownloadProgress> progress, CancellationToken ct)
    {
        var cache = new NodeModelCache(request.CacheDir);
        var file = cache.FileFor(request.Sha256);
        var lease = Guard(file, () => cache.Lease(file, request.Holder));
        try
        {
            if (!File.Exists(file))
            {
                var partial = ModelCacheLayout.PartialOf(file);
                using var held = await Guard(file, () => NodeModelCache.LockAsync(file,
                    () => progress(new DownloadProgress(File.Exists(partial) ? new FileInfo(partial).Length : 0, null)), ct));
                // Another replica may have fetched it while this one waited for the lock.
                if (!File.Exists(file))
                {
                    await Guard(file, () => DownloadAsync(request, partial, progress, ct));
                    await Guard(file, () => VerifyAsync(partial, request.Sha256, ct));
                    File.Move(partial, file);
                }
            }
            NodeModelCache.Touch(file);
            if (request.CacheMaxBytes is { } max)
            {
                cache.Prune(max);
            }
            return (file, lease);
        }
        catch
        {
            lease.Dispose();
            throw;
        }
    }

    private async Task DownloadAsync(FetchRequest request, string partial, Action<DownloadProgress> progress, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (await TryOnceAsync(request, partial, progress, ct))
                {
                    return;
                }
            }
            catch (Exception e) when (IsTransient(e, ct) && attempt < maxAttempts)
            {
                // The connection broke mid-file: what arrived stays in the partial file and the next attempt resumes after it.
            }
            catch (Exception e) when (IsTransient(e, ct))
            {
                throw new ModelDownloadException($"downloading {request.Url} failed {maxAttempts} times; last: {e.Message}", e);
            }
            await Task.Delay(_retryDelay * attempt, ct);
        }
    }

    /// <summary>One request; true once the partial file is complete, false to retry from what it holds.</summary>
    private async Task<bool> TryOnceAsync(FetchRequest request, string partial, Action<DownloadProgress> progress, CancellationToken ct)
    {
        var have = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        using var message = new HttpRequestMessage(HttpMethod.Get, request.Url);
        if (request.Token is { } token)
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        if (have > 0)
        {
            message.Headers.Range = new RangeHeaderValue(have, null);
        }
        using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, ct);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            File.Delete(partial); // what is kept is not a prefix of this file: start over
            return false;
        }
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(ct);
            var what = $"downloading {request.Url} failed: HTTP {(int)response.StatusCode}: {body.Trim()}";
            throw (int)response.StatusCode >= 500 ? new HttpRequestException(what) : new ModelDownloadException(what);
        }
        if (response.Headers.TryGetValues("X-Kiln-Sha256", out var served) && served.FirstOrDefault() is { } sha && sha != request.Sha256)
        {
            throw new ModelDownloadException($"checksum mismatch: the server sends a file with SHA-256 {sha}, the replica expects {request.Sha256}");
        }
        var resumed = response.StatusCode == HttpStatusCode.PartialContent;
        if (resumed && response.Content.Headers.ContentRange?.From != have)
        {
            File.Delete(partial);
            return false;
        }
        var offset = resumed ? have : 0;
        long? total = response.Content.Headers.ContentLength is { } length ? offset + length : null;
        Directory.CreateDirectory(Path.GetDirectoryName(partial)!);
        RequireSpace(partial, total - offset);
        await using var output = new FileStream(partial, resumed ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.Read, 1, FileOptions.Asynchronous);
        await using var input = await response.Content.ReadAsStreamAsync(ct);
        var buffer = new byte[ChunkBytes];
        var done = offset;
        progress(new DownloadProgress(done, total));
        while (true)
        {
            using var read = CancellationTokenSource.CreateLinkedTokenSource(ct);
            read.CancelAfter(ReadTimeout);
            int n;
            try
            {
                n = await input.ReadAsync(buffer, read.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new IOException($"no data for {ReadTimeout.TotalSeconds:0} s");
            }
            if (n == 0)
            {
                break;
            }
            await output.WriteAsync(buffer.AsMemory(0, n), ct);
            done += n;
            progress(new DownloadProgress(done, total));
        }
        if (total is { } expected && done != expected)
        {
            throw new IOException($"the connection closed after {done} of {expected} bytes");
        }
        return true;
    }

    private static async Task VerifyAsync(string partial, string expected, CancellationToken ct)
    {
        string actual;
        await using (var stream = new FileStream(partial, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan))
        {
            actual = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, ct));
        }
        if (actual != expected)
        {
            File.Delete(partial);
            throw new ModelDownloadException($"checksum mismatch: the downloaded file has SHA-256 {actual}, expected {expected}");
        }
    }

    private static void RequireSpace(string partial, long? needed)
    {
        if (needed is not { } bytes)
        {
            return;
        }
        var free = new DriveInfo(Path.GetDirectoryName(Path.GetFullPath(partial))!).AvailableFreeSpace;
        if (free < bytes)
        {
            throw new ModelDownloadException(DiskFull(partial, $"needs {bytes} more bytes, {free} free"));
        }
    }

    /// <summary>Runs a cache step, turning a full disk into a download failure that says so.</summary>
    private static async Task<T> Guard<T>(string file, Func<Task<T>> step)
    {
        try
        {
            return await step();
        }
        catch (IOException e) when (IsDiskFull(e))
        {
            throw new ModelDownloadException(DiskFull(file, e.Message), e);
        }
    }

    private static Task Guard(string file, Func<Task> step) => Guard(file, async () => { await step(); return true; });

    private static T Guard<T>(string file, Func<T> step) => Guard(file, () => Task.FromResult(step())).GetAwaiter().GetResult();

    private static string DiskFull(string file, string detail) =>
        $"no space left on device for the model cache {Path.GetDirectoryName(file)}: {detail}";

    // ENOSPC (28) on Linux; ERROR_DISK_FULL / ERROR_HANDLE_DISK_FULL elsewhere.
    private static bool IsDiskFull(IOException e) => (e.HResult & 0xFFFF) is 28 or 0x70 or 0x27;

    private static bool IsTransient(Exception e, CancellationToken ct) =>
        !ct.IsCancellationRequested && e is HttpRequestException or IOException && !(e is IOException io && IsDiskFull(io));
}
