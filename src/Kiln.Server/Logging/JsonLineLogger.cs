using System.Buffers;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Kiln.Server.Logging;

/// <summary>
/// Logs a category's entries as JSON lines (<see cref="JsonLogLine"/>) into a shared
/// <see cref="LogLineSink"/>. A line is formed on the logging thread in that thread's own buffer,
/// so loggers share only the sink's short copy.
/// </summary>
public sealed class JsonLineLogger(string category, LogLineSink sink, TimeProvider time) : ILogger
{
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_json;

    /// <inheritdoc />
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    /// <inheritdoc />
    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

    /// <inheritdoc />
    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }
        var message = formatter(state, exception);
        if (message is null && exception is null)
        {
            return; // nothing to say, as the console formatter skips it
        }
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        var json = t_json ??= new Utf8JsonWriter(buffer);
        buffer.ResetWrittenCount();
        JsonLogLine.Write(json, buffer, time.GetUtcNow(), category, logLevel, eventId, state, exception, message ?? "");
        sink.Append(buffer.WrittenSpan);
        if (buffer.Capacity > 64 * 1024)
        {
            t_buffer = null; // an exception's long trace: do not keep its buffer on the thread
            t_json = null;
        }
    }
}
