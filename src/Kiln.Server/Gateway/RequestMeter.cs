using System.Net.Http.Json;
using System.Text.Json;
using Kiln.Core.Names;

namespace Kiln.Server.Gateway;

/// <summary>
/// Bills one inference request: the tokens its replica reported, once. When the answer cannot carry
/// them (a stream, a client that went away, a replica that failed mid-way) it asks the replica's
/// usage ledger afterwards, off the request path, so every generated token is billed.
/// </summary>
public sealed class RequestMeter(
    UsageRecorder recorder, ReplicaClient client, DeploymentCounters counters, ILogger log,
    string account, string keyId, DeploymentName deployment, string model, string requestId)
{
    /// <summary>The request header that names the replica's ledger entry for one attempt.</summary>
    public const string UsageKeyHeader = "X-Kiln-Usage-Key";

    // Long enough for a cancelled sequence to leave the batch; the ledger answers as soon as it has.
    private static readonly TimeSpan LedgerWait = TimeSpan.FromSeconds(10);

    /// <summary>The request's ID (echoed to the client, sent to the replica, logged).</summary>
    public string RequestId { get; } = requestId;

    /// <summary>Records the usage of one attempt, and the request when it produced tokens or succeeded.</summary>
    public void Bill(TokenUsage usage, bool succeeded)
    {
        counters.AddTokens(usage.PromptTokens, usage.CompletionTokens);
        if (succeeded || usage.PromptTokens > 0 || usage.CompletionTokens > 0)
        {
            recorder.Served(account, keyId, deployment, model, usage.PromptTokens, usage.CompletionTokens);
        }
    }

    /// <summary>A fresh ledger key for an attempt.</summary>
    public static string NewUsageKey() => Kiln.Server.Logging.RandomIds.New("", 32);

    /// <summary>Fetches an attempt's usage from the replica's ledger in the background and bills it.</summary>
    public void BillFromLedger(Uri replica, string usageKey, bool succeeded) => _ = FetchAsync(replica, usageKey, succeeded);

    private async Task FetchAsync(Uri replica, string usageKey, bool succeeded)
    {
        var usage = default(TokenUsage);
        try
        {
            using var timeout = new CancellationTokenSource(LedgerWait + TimeSpan.FromSeconds(5));
            var uri = new Uri(replica, $"v1/usage/{usageKey}?wait={LedgerWait.TotalSeconds}");
            using var response = await client.Http.GetAsync(uri, timeout.Token);
            if (response.IsSuccessStatusCode)
            {
                var bytes = await response.Content.ReadAsByteArrayAsync(timeout.Token);
                if (!TokenUsage.TryRead(bytes, out usage))
                {
                    log.LogWarning("request {RequestId}: the replica's usage answer has no usage", RequestId);
                }
            }
            else
            {
                // 404: the ledger holds no finished entry (evicted, or still running after the wait);
                // either way these tokens go unbilled, which must show in the log.
                log.LogWarning("request {RequestId}: the replica's usage ledger answered {Status}", RequestId, (int)response.StatusCode);
            }
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or JsonException)
        {
            // The replica is gone (killed mid-request): what it generated cannot be known any more.
            log.LogWarning("request {RequestId}: usage unknown, the replica did not answer ({Error})", RequestId, e.Message);
        }
        Bill(usage, succeeded);
    }
}
