using Kiln.Core.Time;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Kiln.Cli.Api;
using Kiln.Cli.Formatting;

namespace Kiln.Cli.Commands;

/// <summary>
/// --wait: polls a deployment, showing its state and replica counts, until it reaches the goal,
/// fails, or the timeout passes. Transient trouble (server restarting, 5xx) is ridden out.
/// </summary>
public sealed class DeploymentWaiter(CommandContext ctx)
{
    public enum Goal { Ready, Deleted }

    /// <summary>Returns the last deployment seen (null once it is gone) or throws CommandFailedException.</summary>
    /// <param name="until">For <see cref="Goal.Ready"/>: what must also hold (e.g. the requested count set).</param>
    public async Task<JsonObject?> WaitAsync(string account, string id, Goal goal, long timeoutNanos, CancellationToken ct,
        Func<JsonObject, bool>? until = null)
    {
        var name = $"accounts/{account}/deployments/{id}";
        var line = new StatusLine(ctx.Err, ctx.Host.StderrIsTerminal);
        var clock = Stopwatch.StartNew();
        var timeout = timeoutNanos > 0 ? TimeSpan.FromTicks(timeoutNanos / 100) : Timeout.InfiniteTimeSpan;
        JsonObject? last = null;
        string? trouble = null;
        try
        {
            while (true)
            {
                try
                {
                    last = await ctx.Client.GetAsync(ApiPaths.Deployment(account, id), ct);
                    trouble = null;
                }
                catch (KilnApiException e) when (e.IsNotFound && goal == Goal.Deleted)
                {
                    return null;
                }
                catch (KilnApiException e) when ((int)e.Status >= 500)
                {
                    trouble = $"{e.Code}: {e.Message}";
                }
                catch (KilnConnectionException e)
                {
                    trouble = e.Message;
                }

                if (trouble is null && last is not null)
                {
                    line.Show(Describe(last));
                    var state = Json.Str(last, "state");
                    if (goal == Goal.Ready && state == "READY" && Settled(last) && (until?.Invoke(last) ?? true) || goal == Goal.Deleted && state == "DELETED")
                        return last;
                    if (state == "FAILED")
                        throw new CommandFailedException($"deployment {name} FAILED: {DescribeStatus(last)}");
                    if (goal == Goal.Ready && state is "DELETING" or "DELETED")
                        throw new CommandFailedException($"deployment {name} is {state}; it will not become READY");
                }
                else if (trouble is not null)
                {
                    line.Show($"Waiting for the server: {trouble}");
                }

                var remaining = timeout == Timeout.InfiniteTimeSpan ? ctx.Host.PollInterval : timeout - clock.Elapsed;
                if (remaining <= TimeSpan.Zero)
                {
                    var goalText = goal == Goal.Ready ? "become READY" : "be deleted";
                    var seen = last is null ? "" : $" (last seen: {Describe(last)})";
                    var problem = trouble is null ? "" : $"; last error: {trouble}";
                    throw new CommandFailedException(
                        $"timed out after {GoDuration.FormatNanoseconds(timeoutNanos)} waiting for deployment {name} to {goalText}{seen}{problem}");
                }
                await Task.Delay(remaining < ctx.Host.PollInterval ? remaining : ctx.Host.PollInterval, ct);
            }
        }
        finally
        {
            line.End();
        }
    }

    /// <summary>
    /// READY alone is not enough after a change: the spec must be rolled out (observedGeneration up
    /// to generation, when the server reports them) and every desired replica ready.
    /// </summary>
    private static bool Settled(JsonObject d) =>
        (Json.Long(d, "replicaCount") ?? 0) >= (Json.Long(d, "desiredReplicaCount") ?? 0)
        && (Json.Long(d, "observedGeneration") ?? 0) >= (Json.Long(d, "generation") ?? 0);

    /// <summary>"State: CREATING  replicas 0/1 ready (1 initializing)".</summary>
    public static string Describe(JsonObject d)
    {
        var sb = new StringBuilder($"State: {Json.Str(d, "state")}  replicas {DeploymentText.Replicas(d)} ready");
        var parts = new List<string>();
        AddPart(parts, d, "replicaStats.pendingSchedulingReplicaCount", "pending");
        AddPart(parts, d, "replicaStats.downloadingModelReplicaCount", "downloading");
        AddPart(parts, d, "replicaStats.initializingReplicaCount", "initializing");
        if (parts.Count > 0)
            sb.Append(" (").Append(string.Join(", ", parts)).Append(')');
        var message = Json.Str(d, "status.message");
        if (message.Length > 0 && Json.Str(d, "state") != "READY")
            sb.Append("  ").Append(message);
        return sb.ToString();
    }

    private static void AddPart(List<string> parts, JsonObject d, string path, string label)
    {
        if (Json.Long(d, path) is > 0 and var n)
            parts.Add($"{n} {label}");
    }

    private static string DescribeStatus(JsonObject d)
    {
        var status = DeploymentText.Status(d);
        return status.Length > 0 ? status : "no reason given";
    }
}
