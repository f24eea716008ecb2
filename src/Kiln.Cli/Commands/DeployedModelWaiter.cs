using System.Diagnostics;
using System.Text.Json.Nodes;
using Kiln.Cli.Api;
using Kiln.Cli.Formatting;
using Kiln.Core.Time;

namespace Kiln.Cli.Commands;

/// <summary>
/// --wait for deploy and undeploy: polls the deployed model until it is DEPLOYED (or a replica
/// refused to load it) or gone.
/// Transient trouble (server restarting, 5xx) is ridden out until the timeout.
/// </summary>
public sealed class DeployedModelWaiter(CommandContext ctx)
{
    /// <summary>The last state seen (null once gone); throws CommandFailedException on timeout.</summary>
    public async Task<JsonObject?> WaitAsync(string account, string id, bool untilGone, long timeoutNanos, CancellationToken ct)
    {
        var line = new StatusLine(ctx.Err, ctx.Host.StderrIsTerminal);
        var clock = Stopwatch.StartNew();
        var timeout = timeoutNanos > 0 ? TimeSpan.FromTicks(timeoutNanos / 100) : Timeout.InfiniteTimeSpan;
        JsonObject? last = null;
        try
        {
            while (true)
            {
                try
                {
                    last = await ctx.Client.GetAsync(ApiPaths.DeployedModel(account, id), ct);
                    var state = Json.Str(last, "state");
                    line.Show($"State: {state}");
                    if (!untilGone && state == "DEPLOYED")
                        return last;
                    // A replica refused the adapter: waiting longer cannot make it load.
                    if (!untilGone && state == "DEPLOYING" && Json.Str(last, "status.code") is { Length: > 0 } code)
                        throw new CommandFailedException($"{Json.Str(last, "name")} failed to load: {code}: {Json.Str(last, "status.message")}");
                    if (!untilGone && state == "UNDEPLOYING")
                        throw new CommandFailedException($"{Json.Str(last, "name")} is being undeployed; it will not become DEPLOYED");
                }
                catch (KilnApiException e) when (e.IsNotFound)
                {
                    if (untilGone)
                        return null;
                    throw new CommandFailedException($"accounts/{account}/deployedModels/{id} disappeared (its deployment was deleted?)");
                }
                catch (Exception e) when (e is KilnConnectionException || e is KilnApiException { Status: >= System.Net.HttpStatusCode.InternalServerError })
                {
                    line.Show($"Waiting for the server: {e.Message}");
                }
                var remaining = timeout == Timeout.InfiniteTimeSpan ? ctx.Host.PollInterval : timeout - clock.Elapsed;
                if (remaining <= TimeSpan.Zero)
                {
                    var goal = untilGone ? "be undeployed" : "become DEPLOYED";
                    var seen = last is null ? "" : $" (last seen: {Json.Str(last, "state")})";
                    throw new CommandFailedException(
                        $"timed out after {GoDuration.FormatNanoseconds(timeoutNanos)} waiting for accounts/{account}/deployedModels/{id} to {goal}{seen}");
                }
                await Task.Delay(remaining < ctx.Host.PollInterval ? remaining : ctx.Host.PollInterval, ct);
            }
        }
        finally
        {
            line.End();
        }
    }
}
