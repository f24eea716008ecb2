using System.Security.Cryptography;
using Kiln.Core.ModelFiles;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Kiln.Server.Tests.Replica.Download;

/// <summary>
/// A file server on a free loopback port that behaves like the control plane's download endpoint
/// (bearer token, one byte range, the digest header) and can misbehave on purpose: cut the first
/// response after some bytes, send slowly, or send other bytes than the digest it names.
/// </summary>
internal sealed class FakeFileServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _gets;
    private int _cuts;

    private FakeFileServer(WebApplication app, byte[] content)
    {
        _app = app;
        Content = content;
        Sha256 = Convert.ToHexStringLower(SHA256.HashData(content));
    }

    public byte[] Content { get; }
    public string Sha256 { get; }
    public const string Token = "secret-token";
    public Uri Url => new(_app.Urls.First() + "/file");

    /// <summary>GET requests answered so far.</summary>
    public int Gets => Volatile.Read(ref _gets);

    /// <summary>The Range header of every request, in order ("" when none).</summary>
    public List<string> Ranges { get; } = [];

    /// <summary>Cut this many responses short (the first ones), each after <see cref="CutAfterBytes"/> bytes.</summary>
    public int CutResponses { get; set; }
    public int CutAfterBytes { get; set; }

    /// <summary>Sleep this long after each 4 KiB sent.</summary>
    public TimeSpan ChunkDelay { get; set; }

    /// <summary>Send no Content-Length (chunked), so the receiver cannot tell the size up front.</summary>
    public bool OmitLength { get; set; }

    /// <summary>Send these bytes instead of <see cref="Content"/> (the digest header still names the real content's).</summary>
    public byte[]? Corrupt { get; set; }

    public static async Task<FakeFileServer> StartAsync(byte[] content)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new FakeFileServer(app, content);
        app.MapGet("/file", server.ServeAsync);
        await app.StartAsync();
        return server;
    }

    public static byte[] RandomBytes(int n, int seed)
    {
        var bytes = new byte[n];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private async Task ServeAsync(HttpContext ctx)
    {
        Interlocked.Increment(ref _gets);
        lock (Ranges) Ranges.Add(ctx.Request.Headers.Range.ToString());
        if (ctx.Request.Headers.Authorization.ToString() != $"Bearer {Token}")
        {
            ctx.Response.StatusCode = 401;
            await ctx.Response.WriteAsync("{\"code\":\"UNAUTHENTICATED\",\"message\":\"invalid token\"}");
            return;
        }
        var body = Corrupt ?? Content;
        var request = ByteRange.Parse(ctx.Request.Headers.Range.ToString(), body.Length);
        if (request.Error is not null)
        {
            ctx.Response.StatusCode = 416;
            return;
        }
        var (first, length) = request.Range is { } r ? (r.First, r.Length) : (0L, body.Length);
        if (request.Range is { } range)
        {
            ctx.Response.StatusCode = 206;
            ctx.Response.Headers.ContentRange = range.ContentRange(body.Length);
        }
        ctx.Response.Headers["X-Kiln-Sha256"] = Sha256;
        ctx.Response.ContentLength = OmitLength ? null : length;
        var cut = Interlocked.Increment(ref _cuts) <= CutResponses;
        var sent = 0L;
        while (sent < length)
        {
            var n = (int)Math.Min(4096, length - sent);
            if (cut && sent + n > CutAfterBytes)
            {
                await ctx.Response.Body.WriteAsync(body.AsMemory((int)(first + sent), (int)(CutAfterBytes - sent)));
                await ctx.Response.Body.FlushAsync();
                ctx.Abort();
                return;
            }
            await ctx.Response.Body.WriteAsync(body.AsMemory((int)(first + sent), n));
            sent += n;
            if (ChunkDelay > TimeSpan.Zero)
            {
                await ctx.Response.Body.FlushAsync();
                await Task.Delay(ChunkDelay);
            }
        }
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
