using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Kiln.Core.Errors;
using Kiln.Core.ModelFiles;

namespace Kiln.Server.ControlPlane.Imports;

/// <summary>What a finished download holds.</summary>
/// <param name="Sha256">The SHA-256 of the bytes on disk.</param>
/// <param name="Length">Their length.</param>
/// <param name="PublishedSha256">The SHA-256 the source published for the file (<see cref="PublishedDigest"/>), if it did.</param>
public sealed record DownloadedFile(string Sha256, long Length, string? PublishedSha256);

/// <summary>
/// Downloads one URL into a <c>.part</c> file that survives interruptions: each attempt asks only for
/// the bytes the file lacks (<c>Range</c>, with <c>If-Range</c> naming the validator the first
/// answer carried, so a file that changed at the source is fetched again from the start instead of
/// spliced). Redirects are followed here rather than by the HTTP client, so the digest a redirect
/// publishes (Hugging Face's <c>X-Linked-ETag</c>) is seen. Lost connections and 5xx answers are
/// retried with a doubling pause; a run of <see cref="ModelImportOptions.MaxAttempts"/> attempts that
/// bring no new byte fails the download. A 404, a refused access or a full disk fail it at once.
/// The caller decides what to do with the <c>.part</c> file on failure (delete it, or keep it to resume).
/// </summary>
public sealed class ResumableDownload(HttpClient http, ModelImportOptions options, DiskSpace disk, ILogger log)
{
    private const int ChunkBytes = 1 << 20;
    private const int MaxRedirects = 10;

    /// <summary>The file beside <paramref name="part"/> that holds the validator (ETag or Last-Modified) of the bytes in it.</summary>
    public static string ValidatorOf(string part) => part + ".validator";

    /// <summary>Fetches <paramref name="url"/> into <paramref name="part"/>, resuming what is there; reports (bytes on disk, total when known).</summary>
    public async Task<DownloadedFile> RunAsync(Uri url, string part, Action<long, long?> progress, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(part)!);
        string? published = null;
        var failures = 0;
        while (true)
        {
            var before = Length(part);
            try
            {
                published = await AttemptAsync(url, part, progress, ct) ?? published;
                break;
            }
            catch (Exception e) when (IsTransient(e, ct))
            {
                failures = Length(part) > before ? 1 : failures + 1;
                if (failures >= options.MaxAttempts)
                {
                    throw new DownloadFailedException(StatusCode.Unavailable,
                        $"downloading {url} failed {failures} times in a row without progress; last: {e.Message}", e);
                }
                var delay = Backoff(failures);
                log.LogWarning("Download of {Url} interrupted at {Bytes} bytes ({Error}); retrying in {Delay}", url, Length(part), e.Message, delay);
                await Task.Delay(delay, ct);
            }
        }
        string sha;
        await using (var file = new FileStream(part, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan))
        {
            sha = Convert.ToHexStringLower(await SHA256.HashDataAsync(file, ct));
        }
        return new DownloadedFile(sha, Length(part), published);
    }

    /// <summary>The pause after <paramref name="failures"/> failed attempts in a row: the first delay, doubled each time, capped.</summary>
    public TimeSpan Backoff(int failures) =>
        TimeSpan.FromTicks(Math.Min(options.MaxRetryDelay.Ticks, options.RetryDelay.Ticks * (1L << Math.Min(failures - 1, 20))));

    /// <summary>One attempt; returns the digest the source published, if any. Transient failures throw <see cref="IOException"/> or <see cref="HttpRequestException"/>.</summary>
    private async Task<string?> AttemptAsync(Uri url, string part, Action<long, long?> progress, CancellationToken ct)
    {
        var have = Length(part);
        var validatorFile = ValidatorOf(part);
        var validator = have > 0 && File.Exists(validatorFile) ? await File.ReadAllTextAsync(validatorFile, ct) : null;
        var (response, published) = await SendAsync(url, have, validator, ct);
        using (response)
        {
            if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && have > 0)
            {
                Discard(part);
                throw new IOException($"the source refused to resume at byte {have}; starting over");
            }
            if (!response.IsSuccessStatusCode)
            {
                throw Refused(url, response);
            }
            published = PublishedDigest.Find(name => Header(response, name)) is { } own && published is null ? own : published;
            var resumed = response.StatusCode == HttpStatusCode.PartialContent;
            if (resumed && response.Content.Headers.ContentRange?.From != have)
            {
                Discard(part);
                throw new IOException($"the source answered another range ({response.Content.Headers.ContentRange}) than the one asked (from byte {have}); starting over");
            }
            if (!resumed)
            {
                // The whole file (the first attempt, or the source could not or would not resume): start
                // it over, remembering what identifies this version of it for later resumes.
                await File.WriteAllTextAsync(validatorFile, ValidatorIn(response) ?? "", ct);
            }
            var offset = resumed ? have : 0;
            var total = resumed ? response.Content.Headers.ContentRange?.Length : response.Content.Headers.ContentLength;
            var folder = Path.GetDirectoryName(part)!;
            if (total is { } t)
            {
                disk.Require(folder, t - offset);
            }
            await CopyAsync(response, part, resumed, offset, total, progress, ct);
            return published;
        }
    }

    private async Task<(HttpResponseMessage Response, string? Published)> SendAsync(Uri url, long have, string? validator, CancellationToken ct)
    {
        string? published = null;
        var current = url;
        for (var hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, current);
            if (have > 0)
            {
                request.Headers.Range = new RangeHeaderValue(have, null);
                if (!string.IsNullOrEmpty(validator))
                {
                    request.Headers.TryAddWithoutValidation("If-Range", validator);
                }
            }
            var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            if ((int)response.StatusCode is 301 or 302 or 303 or 307 or 308 && response.Headers.Location is { } location)
            {
                published ??= PublishedDigest.Find(name => Header(response, name));
                response.Dispose();
                if (hop >= MaxRedirects)
                {
                    throw new DownloadFailedException(StatusCode.FailedPrecondition, $"downloading {url}: more than {MaxRedirects} redirects");
                }
                current = new Uri(current, location);
                continue;
            }
            return (response, published);
        }
    }

    private async Task CopyAsync(HttpResponseMessage response, string part, bool append, long offset, long? total, Action<long, long?> progress, CancellationToken ct)
    {
        var folder = Path.GetDirectoryName(part)!;
        try
        {
            await using var output = new FileStream(part, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.Read, 1, FileOptions.Asynchronous);
            await using var input = await response.Content.ReadAsStreamAsync(ct);
            var buffer = new byte[ChunkBytes];
            var done = offset;
            progress(done, total);
            while (true)
            {
                using var read = CancellationTokenSource.CreateLinkedTokenSource(ct);
                read.CancelAfter(options.ReadTimeout);
                int n;
                try
                {
                    n = await input.ReadAsync(buffer, read.Token);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    throw new IOException($"no data for {options.ReadTimeout.TotalSeconds:0} s");
                }
                if (n == 0)
                {
                    break;
                }
                if (total is null)
                {
                    disk.Require(folder, n); // the length was not announced: check as the bytes come
                }
                await output.WriteAsync(buffer.AsMemory(0, n), ct);
                done += n;
                progress(done, total);
            }
            if (total is { } expected && done != expected)
            {
                throw new IOException($"the connection closed after {done} of {expected} bytes");
            }
        }
        catch (IOException e) when (DiskSpace.IsFull(e))
        {
            throw DiskSpace.Full(e.Message, e);
        }
    }

    private static DownloadFailedException Refused(Uri url, HttpResponseMessage response)
    {
        var status = (int)response.StatusCode;
        var what = $"HTTP {status} {response.ReasonPhrase}".TrimEnd();
        if (status is 408 or 425 or 429 or >= 500)
        {
            throw new HttpRequestException($"{url} answered {what}");
        }
        return status switch
        {
            404 or 410 => new DownloadFailedException(StatusCode.NotFound, $"{url} was not found ({what})"),
            401 or 403 => new DownloadFailedException(StatusCode.PermissionDenied,
                $"{url} refused access ({what}); the file may be private or gated"),
            _ => new DownloadFailedException(StatusCode.FailedPrecondition, $"{url} answered {what}"),
        };
    }

    private static string? ValidatorIn(HttpResponseMessage response) =>
        response.Headers.ETag is { IsWeak: false } etag ? etag.ToString()
        : response.Content.Headers.LastModified is { } modified ? modified.ToString("R") : null;

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? values.FirstOrDefault()
            : null;

    /// <summary>Deletes a <c>.part</c> file and its validator.</summary>
    public static void Discard(string part)
    {
        foreach (var file in new[] { part, ValidatorOf(part) })
        {
            if (File.Exists(file))
            {
                File.Delete(file);
            }
        }
    }

    private static long Length(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;

    private static bool IsTransient(Exception e, CancellationToken ct) =>
        !ct.IsCancellationRequested && e is HttpRequestException or IOException;
}
