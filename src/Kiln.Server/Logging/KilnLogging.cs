using Microsoft.Extensions.Logging;

namespace Kiln.Server.Logging;

/// <summary>
/// One log format for the server and its replicas: a JSON object a line with a UTC timestamp,
/// level, category, message and the message's fields (a request's lines carry its
/// <c>RequestId</c>), so an operator's tools can filter and join them.
/// </summary>
public static class KilnLogging
{
    /// <summary>Replaces the providers with the JSON console.</summary>
    public static ILoggingBuilder AddKilnConsole(this ILoggingBuilder logging)
    {
        logging.ClearProviders();
        logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.None);
        logging.AddJsonConsole(o =>
        {
            o.IncludeScopes = false;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
        });
        logging.SetMinimumLevel(LogLevel.Warning);
        logging.AddFilter("Kiln", LogLevel.Information);
        return logging;
    }
}
