using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Kiln.Server.Replica;

/// <summary>Server-sent events the way OpenAI streams: <c>data: {json}\n\n</c> ... <c>data: [DONE]\n\n</c>.</summary>
internal sealed class SseWriter(HttpResponse response, CancellationToken cancellationToken)
{
    private readonly ArrayBufferWriter<byte> _buffer = new();

    public async Task StartAsync()
    {
        response.StatusCode = 200;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        await response.StartAsync(cancellationToken);
    }

    public async Task WriteAsync(Action<Utf8JsonWriter> write)
    {
        _buffer.ResetWrittenCount();
        _buffer.Write("data: "u8);
        using (var w = new Utf8JsonWriter(_buffer)) write(w);
        _buffer.Write("\n\n"u8);
        await response.Body.WriteAsync(_buffer.WrittenMemory, cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    public async Task DoneAsync()
    {
        await response.Body.WriteAsync("data: [DONE]\n\n"u8.ToArray(), cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }
}
