namespace Kiln.Cli.Api;

/// <summary>
/// Downloads a model file from a URL. It never sends the Kiln API key: the URL is a third party's.
/// </summary>
public sealed class FileDownloader(HttpMessageHandler? handler)
{
    private const int ChunkSize = 1 << 20;

    /// <summary>Copies the body of <paramref name="url"/> into <paramref name="destination"/>.</summary>
    /// <param name="start">Called once with the announced length (null when unknown).</param>
    /// <param name="progress">Called with the bytes received so far.</param>
    public async Task<long> DownloadAsync(Uri url, Stream destination, Action<long?> start, Action<long> progress, CancellationToken ct)
    {
        using var http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        http.Timeout = Timeout.InfiniteTimeSpan;
        HttpResponseMessage response;
        try
        {
            response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct);
        }
        catch (HttpRequestException e)
        {
            throw new CommandFailedException($"--from: cannot download {url}: {e.Message}");
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
                throw new CommandFailedException($"--from: cannot download {url}: HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
            start(response.Content.Headers.ContentLength);
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            var buffer = new byte[ChunkSize];
            long total = 0;
            int read;
            while ((read = await body.ReadAsync(buffer, ct)) > 0)
            {
                await destination.WriteAsync(buffer.AsMemory(0, read), ct);
                total += read;
                progress(total);
            }
            return total;
        }
    }
}
