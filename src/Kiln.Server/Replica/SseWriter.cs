using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Kiln.Server.Replica;

/// <summary>
/// Server-sent events the way OpenAI streams: <c>data: {json}\n\n</c> ... <c>data: [DONE]\n\n</c>.
/// Events are written straight into the response's pipe by one reused JSON writer and go out on
/// <see cref="FlushAsync"/>, so a caller can send every event that is ready with one flush, and a
/// token costs no allocation here.
/// </summary>
internal sealed class SseWriter(HttpResponse response, CancellationToken cancellationToken)
{
    private Utf8JsonWriter? _json;

    public async Task StartAsync()
    {
        response.StatusCode = 200;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        await response.StartAsync(cancellationToken);
    }

    /// <summary>Starts an event: write one JSON value to the returned writer, then call <see cref="End"/>.</summary>
    public Utf8JsonWriter Begin()
    {
        var body = response.BodyWriter;
        body.Write("data: "u8);
        if (_json is null) _json = new Utf8JsonWriter(body, JsonOutput.Options);
        else _json.Reset(body);
        return _json;
    }

    public void End()
    {
        _json!.Flush();
        response.BodyWriter.Write("\n\n"u8);
    }

    /// <summary>Sends the events written so far. The pipe's own task, so a flush that waits allocates nothing here.</summary>
    public ValueTask<FlushResult> FlushAsync() => response.BodyWriter.FlushAsync(cancellationToken);

    /// <summary>Writes one event and sends it.</summary>
    public ValueTask<FlushResult> WriteAsync(Action<Utf8JsonWriter> write)
    {
        write(Begin());
        End();
        return FlushAsync();
    }

    public ValueTask<FlushResult> DoneAsync()
    {
        response.BodyWriter.Write("data: [DONE]\n\n"u8);
        return FlushAsync();
    }
}
