using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kiln.Server.Logging;

/// <summary>
/// One log format for the server and its replicas: a JSON object a line with a UTC timestamp,
/// level, category, message and the message's fields (a request's lines carry its
/// <c>RequestId</c>), so an operator's tools can filter and join them.
/// </summary>
public static class KilnLogging
{
    /// <summary>Replaces the providers with JSON lines on standard output.</summary>
    public static ILoggingBuilder AddKilnConsole(this ILoggingBuilder logging) => logging.AddKilnLines(Console.OpenStandardOutput());

    /// <summary>Replaces the providers with JSON lines on <paramref name="output"/>.</summary>
    public static ILoggingBuilder AddKilnLines(this ILoggingBuilder logging, Stream output)
    {
        logging.ClearProviders();
        logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.None);
        // Not the console logger: it writes (a system call) per line, a cost a server logging each
        // request pays at every request; the sink writes a batch at a time.
        logging.Services.AddSingleton<ILoggerProvider>(_ =>
            new JsonLineLoggerProvider(new LogLineSink(output), TimeProvider.System));
        logging.SetMinimumLevel(LogLevel.Warning);
        logging.AddFilter("Kiln", LogLevel.Information);
        return logging;
    }
}
