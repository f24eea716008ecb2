using System.Runtime.CompilerServices;
using System.Text.Json;
using Kiln.Core.Errors;
using Kiln.Core.ModelFiles;
using Kiln.Server.Auth;
using Kiln.Server.ControlPlane.Api;
using Kiln.Store;

namespace Kiln.Server.ControlPlane.Distribution;

/// <summary>
/// <c>GET /v1/accounts/{a}/models/{m}:download</c>: a model's file, for replicas on other nodes (with
/// the token the control plane minted for them) and for the account's own API keys. Streams from
/// disk; answers one byte range (206, or 416 with <c>Content-Range: bytes */N</c>) so an interrupted
/// download resumes; <c>ETag</c> and <c>X-Kiln-Sha256</c> carry the file's SHA-256, which the
/// downloader checks.
/// </summary>
public static class ModelDownloadApi
{
    /// <summary>The header carrying the served file's SHA-256 in lowercase hex.</summary>
    public const string Sha256Header = "X-Kiln-Sha256";

    /// <summary>The download path of model <paramref name="model"/> of <paramref name="account"/>.</summary>
    public static string PathOf(string account, string model) => $"/v1/accounts/{account}/models/{model}:download";

    /// <summary>Maps the route.</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapMethods("/v1/accounts/{a}/models/{m}:download", [HttpMethods.Get, HttpMethods.Head],
            async (string a, string m, HttpContext ctx, IKilnStore store, ServedFiles files, ModelDistributionOptions options, ILoggerFactory logs, CancellationToken ct) =>
            {
                var name = $"accounts/{a}/models/{m}";
                var caller = Caller.Of(ctx);
                caller.RequireAccount(a, "model", name);
                var model = await store.GetModelAsync(a, m, ct) ?? throw KilnError.NotFound("model", name);
                var file = await files.ResolveAsync(model, ct);
                await SendAsync(ctx, file, options.DownloadBytesPerSecond, (first, sent) =>
                    // One line per transfer, however it ended: how often nodes fetch a model, and how much.
                    logs.CreateLogger(typeof(ModelDownloadApi)).LogInformation(
                        "model download: sent {Sent} of {Length} bytes of {Model} (sha256 {Sha256}) from byte {First} to {Key}",
                        sent, file.Length, name, file.Sha256, first, caller.KeyId), ct);
            });
    }

    private static async Task SendAsync(HttpContext ctx, ServedFile file, long? bytesPerSecond, Action<long, long> sentFrom, CancellationToken ct)
    {
        var response = ctx.Response;
        response.Headers.AcceptRanges = "bytes";
        response.Headers.ETag = $"\"sha256:{file.Sha256}\"";
        response.Headers[Sha256Header] = file.Sha256;
        response.ContentType = "application/octet-stream";
        var request = ByteRange.Parse(ctx.Request.Headers.Range.ToString(), file.Length);
        if (request.Error is { } error)
        {
            response.StatusCode = Microsoft.AspNetCore.Http.StatusCodes.Status416RangeNotSatisfiable;
            response.Headers.ContentRange = ByteRange.Unsatisfied(file.Length);
            response.ContentType = "application/json";
            await JsonSerializer.SerializeAsync(response.Body, new ErrorBody("OUT_OF_RANGE", error), ApiJson.Options, ct);
            return;
        }
        var (first, length) = request.Range is { } range ? (range.First, range.Length) : (0L, file.Length);
        if (request.Range is { } r)
        {
            response.StatusCode = Microsoft.AspNetCore.Http.StatusCodes.Status206PartialContent;
            response.Headers.ContentRange = r.ContentRange(file.Length);
        }
        response.ContentLength = length;
        if (HttpMethods.IsHead(ctx.Request.Method))
        {
            return;
        }
        await using var stream = new FileStream(file.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        stream.Position = first;
        var sent = new StrongBox<long>();
        try
        {
            await CopyAsync(stream, response.Body, length, bytesPerSecond, sent, ct);
        }
        finally
        {
            sentFrom(first, sent.Value);
        }
    }

    /// <summary>
    /// Copies <paramref name="length"/> bytes in chunks (no more than one in memory), at most
    /// <paramref name="bytesPerSecond"/> when set, counting them in <paramref name="sent"/> as they go.
    /// </summary>
    private static async Task CopyAsync(Stream from, Stream to, long length, long? bytesPerSecond, StrongBox<long> sent, CancellationToken ct)
    {
        var chunk = (int)Math.Min(1 << 16, Math.Max(1, bytesPerSecond / 10 ?? 1 << 16));
        var buffer = new byte[chunk];
        var started = System.Diagnostics.Stopwatch.StartNew();
        while (sent.Value < length)
        {
            var read = await from.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, length - sent.Value)), ct);
            if (read == 0)
            {
                throw new IOException("the model file ended early: it changed while being sent");
            }
            await to.WriteAsync(buffer.AsMemory(0, read), ct);
            sent.Value += read;
            if (bytesPerSecond is { } rate && TimeSpan.FromSeconds((double)sent.Value / rate) - started.Elapsed is { Ticks: > 0 } ahead)
            {
                await to.FlushAsync(ct);
                await Task.Delay(ahead, ct);
            }
        }
    }
}
