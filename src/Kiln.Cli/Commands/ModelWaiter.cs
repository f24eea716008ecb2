using System.Text.Json.Nodes;
using Kiln.Cli.Api;
using Kiln.Cli.Formatting;

namespace Kiln.Cli.Commands;

/// <summary>
/// <c>import model --wait</c>: polls a model the server downloads, showing bytes, speed and time
/// left, until it is READY, FAILED (exit 1 with the reason) or the timeout passes.
/// </summary>
public sealed class ModelWaiter(CommandContext ctx)
{
    public Task<JsonObject> WaitAsync(string account, string id, long timeoutNanos, CancellationToken ct)
    {
        var name = $"accounts/{account}/models/{id}";
        JsonObject? last = null;
        return new WaitLoop(ctx, timeoutNanos).RunAsync(async (line, token) =>
        {
            last = await ctx.Client.GetAsync(ApiPaths.Model(account, id), token);
            var state = Json.Str(last, "state");
            line.Show(state == "DOWNLOADING" ? $"Downloading {ModelText.Download(last)}" : $"State: {state}");
            if (state == "FAILED")
                throw new CommandFailedException($"model {name} FAILED: {ModelText.Status(last)}");
            return state is "READY" or "DEPLOYING" or "DEPLOYED" ? last : null;
        }, () => $"model {name} to be imported{(last is null ? "" : $" (last seen: {Json.Str(last, "state")} {ModelText.Download(last)})")}; the server keeps downloading it", ct);
    }
}
