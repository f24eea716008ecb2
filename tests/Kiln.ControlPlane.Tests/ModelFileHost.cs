using System.Net;
using System.Security.Cryptography;
using Kiln.Core.ModelFiles;

namespace Kiln.ControlPlane.Tests;

/// <summary>
/// A model file source on a free loopback port, for the server's downloads: <c>/files/NAME</c>
/// serves registered files with one byte range (<c>If-Range</c> against a fixed ETag) and can
/// misbehave on purpose (cut responses short, answer 404, send other bytes, send slowly, hide the
/// length); <c>/hub/OWNER/REPO/resolve/REV/NAME</c> redirects there as Hugging Face does, publishing
/// the file's SHA-256 in <c>X-Linked-ETag</c>. Every request is recorded.
/// </summary>
public sealed class ModelFileHost : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Dictionary<string, Served> _files = [];
    private readonly Task _loop;

    public sealed record Request(string Path, string Range, string IfRange);

    public sealed class Served(byte[] content)
    {
        public byte[] Content { get; } = content;
        public string Sha256 { get; } = Convert.ToHexStringLower(SHA256.HashData(content));
        /// <summary>Cut this many responses (the first ones) after <see cref="CutAfterBytes"/> bytes.</summary>
        public int CutResponses { get; set; }
        public int CutAfterBytes { get; set; }
        /// <summary>Send these bytes instead (the hub still publishes the real content's digest).</summary>
        public byte[]? Corrupt { get; set; }
        /// <summary>Pause after each 256 bytes.</summary>
        public TimeSpan ChunkDelay { get; set; }
        /// <summary>Send chunked, with no Content-Length.</summary>
        public bool OmitLength { get; set; }
        internal int Cuts;
    }

    public ModelFileHost()
    {
        Port = FreePort.Next();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }
    public string Url(string name) => $"http://127.0.0.1:{Port}/files/{name}";
    public string HubBase => $"http://127.0.0.1:{Port}/hub";

    public List<Request> Requests { get; } = [];

    public IReadOnlyList<Request> RequestsFor(string name)
    {
        lock (Requests) return Requests.Where(r => r.Path.EndsWith("/" + name, StringComparison.Ordinal)).ToList();
    }

    public Served Add(string name, byte[] content)
    {
        var served = new Served(content);
        lock (_files) _files[name] = served;
        return served;
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext ctx;
            try
            {
                ctx = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            _ = Task.Run(() => ServeAsync(ctx));
        }
    }

    private async Task ServeAsync(HttpListenerContext ctx)
    {
        var path = ctx.Request.Url!.AbsolutePath;
        lock (Requests) Requests.Add(new Request(path, ctx.Request.Headers["Range"] ?? "", ctx.Request.Headers["If-Range"] ?? ""));
        var name = path[(path.LastIndexOf('/') + 1)..];
        Served? file;
        lock (_files) file = _files.GetValueOrDefault(name);
        try
        {
            if (file is null)
            {
                ctx.Response.StatusCode = 404;
                ctx.Response.Close();
            }
            else if (path.StartsWith("/hub/", StringComparison.Ordinal))
            {
                ctx.Response.StatusCode = 302;
                ctx.Response.Headers["Location"] = $"/files/{name}";
                ctx.Response.Headers["X-Linked-ETag"] = $"\"{file.Sha256}\"";
                ctx.Response.Headers["X-Linked-Size"] = file.Content.Length.ToString();
                ctx.Response.Close();
            }
            else
            {
                await SendAsync(ctx, file);
            }
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
        {
            // The downloader went away.
        }
    }

    private static async Task SendAsync(HttpListenerContext ctx, Served file)
    {
        const string etag = "\"v1\"";
        var body = file.Corrupt ?? file.Content;
        var ifRange = ctx.Request.Headers["If-Range"];
        var range = ifRange is null || ifRange == etag ? ByteRange.Parse(ctx.Request.Headers["Range"], body.Length) : RangeRequest.Whole;
        var response = ctx.Response;
        response.Headers["ETag"] = etag;
        if (range.Error is not null)
        {
            response.StatusCode = 416;
            response.Close();
            return;
        }
        var (first, length) = range.Range is { } r ? (r.First, r.Length) : (0L, body.Length);
        if (range.Range is { } part)
        {
            response.StatusCode = 206;
            response.Headers["Content-Range"] = part.ContentRange(body.Length);
        }
        if (file.OmitLength)
            response.SendChunked = true;
        else
            response.ContentLength64 = length;
        var cut = Interlocked.Increment(ref file.Cuts) <= file.CutResponses;
        var sent = 0L;
        while (sent < length)
        {
            var n = (int)Math.Min(256, length - sent);
            if (cut && sent + n > file.CutAfterBytes)
            {
                await response.OutputStream.WriteAsync(body.AsMemory((int)(first + sent), (int)(file.CutAfterBytes - sent)));
                await response.OutputStream.FlushAsync();
                await Task.Delay(300); // let the bytes reach the client before the reset
                response.Abort();
                return;
            }
            await response.OutputStream.WriteAsync(body.AsMemory((int)(first + sent), n));
            sent += n;
            if (file.ChunkDelay > TimeSpan.Zero)
            {
                await response.OutputStream.FlushAsync();
                await Task.Delay(file.ChunkDelay);
            }
        }
        response.Close();
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try { _loop.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
    }
}
