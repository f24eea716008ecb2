using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Kiln.Server.Logging;

/// <summary>Kiln's log provider: JSON lines (<see cref="JsonLineLogger"/>) through one batching sink.</summary>
[ProviderAlias("Console")]
public sealed class JsonLineLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentDictionary<string, JsonLineLogger> _loggers = new(StringComparer.Ordinal);
    private readonly LogLineSink _sink;
    private readonly TimeProvider _time;

    /// <summary>A provider writing into <paramref name="sink"/>, which it disposes.</summary>
    public JsonLineLoggerProvider(LogLineSink sink, TimeProvider time)
    {
        _sink = sink;
        _time = time;
    }

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) =>
        _loggers.GetOrAdd(categoryName, name => new JsonLineLogger(name, _sink, _time));

    /// <summary>Writes the lines still queued.</summary>
    public void Dispose() => _sink.Dispose();
}
