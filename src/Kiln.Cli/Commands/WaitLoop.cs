using System.Diagnostics;
using Kiln.Cli.Api;
using Kiln.Cli.Formatting;
using Kiln.Core.Time;

namespace Kiln.Cli.Commands;

/// <summary>
/// The loop of a --wait: polls every poll interval, showing a status line, until the poll returns a
/// result or the timeout (0: none) passes; a server that is restarting or answers 5xx is ridden out.
/// </summary>
public sealed class WaitLoop(CommandContext ctx, long timeoutNanos)
{
    /// <summary>Returns the first non-null result of <paramref name="poll"/>; on timeout fails with "waiting for <paramref name="goal"/>".</summary>
    public async Task<T> RunAsync<T>(Func<StatusLine, CancellationToken, Task<T?>> poll, Func<string> goal, CancellationToken ct) where T : class
    {
        var line = new StatusLine(ctx.Err, ctx.Host.StderrIsTerminal);
        var clock = Stopwatch.StartNew();
        var timeout = timeoutNanos > 0 ? TimeSpan.FromTicks(timeoutNanos / 100) : Timeout.InfiniteTimeSpan;
        try
        {
            while (true)
            {
                try
                {
                    if (await poll(line, ct) is { } done)
                        return done;
                }
                catch (Exception e) when (e is KilnConnectionException || e is KilnApiException { Status: >= System.Net.HttpStatusCode.InternalServerError })
                {
                    line.Show($"Waiting for the server: {e.Message}");
                }
                var remaining = timeout == Timeout.InfiniteTimeSpan ? ctx.Host.PollInterval : timeout - clock.Elapsed;
                if (remaining <= TimeSpan.Zero)
                    throw new CommandFailedException($"timed out after {GoDuration.FormatNanoseconds(timeoutNanos)} waiting for {goal()}");
                await Task.Delay(remaining < ctx.Host.PollInterval ? remaining : ctx.Host.PollInterval, ct);
            }
        }
        finally
        {
            line.End();
        }
    }
}
