using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kiln.Server.Replica;

/// <summary>
/// One log line per replica request: method, path, status, duration and, for generations, the
/// response's ID (<c>cmpl-...</c>), joined to the gateway's line by the request ID.
/// Probes (<c>/health</c>, <c>/metrics</c>) log at Debug: the control plane sends them constantly; so
/// do the replica's own warm-up requests, a hundred or so before it turns ready.
/// </summary>
internal static class AccessLog
{
    /// <summary>Where endpoints leave the ID of the response they wrote.</summary>
    public const string ResponseIdItem = "kiln.response-id";

    public static IApplicationBuilder UseReplicaAccessLog(this IApplicationBuilder app, ReplicaState state)
    {
        var log = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("Kiln.Replica.Access");
        return app.Use(async (ctx, next) =>
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                await next(ctx);
            }
            finally
            {
                var path = ctx.Request.Path.Value ?? "";
                var level = path is "/health" or "/metrics" || state.IsWarmup(ctx) ? LogLevel.Debug : LogLevel.Information;
                if (log.IsEnabled(level))
                {
                    log.Log(level, "{RequestId} {Method} {Path} {Status} {DurationMs:0.0}ms {ResponseId} aborted={Aborted}",
                        ctx.TraceIdentifier, ctx.Request.Method, path, ctx.Response.StatusCode, Stopwatch.GetElapsedTime(started).TotalMilliseconds,
                        ctx.Items[ResponseIdItem] as string, ctx.RequestAborted.IsCancellationRequested);
                }
            }
        });
    }
}
