namespace Kiln.Server.Gateway;

/// <summary>
/// Opens the gateway's pooled connections to a replica ahead of its first requests. A burst sent to
/// a replica that has just become READY otherwise opens one connection per request while the
/// replica's engine threads hold the cores, so the requests reach it one by one and join its batch
/// over several decode steps instead of in one.
/// </summary>
public sealed class ReplicaConnectionOpener(ReplicaClient client)
{
    /// <summary>Most connections opened ahead to one replica.</summary>
    public const int MaxConnections = 64;

    /// <summary>How long opening may take before the replica is routed to anyway.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Sends <paramref name="connections"/> concurrent health checks to <paramref name="baseUri"/>:
    /// the pool opens a connection for each request that finds none idle, so all of them stay
    /// pooled afterwards. Any answer will do and failures are ignored: the request path has its own.
    /// </summary>
    public async Task OpenAsync(Uri baseUri, int connections)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var uri = new Uri(baseUri, "health");
        await Task.WhenAll(Enumerable.Range(0, Math.Clamp(connections, 1, MaxConnections)).Select(async _ =>
        {
            try
            {
                using var response = await client.Http.GetAsync(uri, timeout.Token);
                await response.Content.LoadIntoBufferAsync(timeout.Token);
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
            {
            }
        }));
    }
}
