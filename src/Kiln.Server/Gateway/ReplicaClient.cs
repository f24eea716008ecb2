using System.Net;

namespace Kiln.Server.Gateway;

/// <summary>The pooled HTTP client the gateway and the autoscaler use to reach replicas.</summary>
public sealed class ReplicaClient : IDisposable
{
    /// <summary>The client; no overall timeout, since streams last as long as generation does.</summary>
    public HttpClient Http { get; } = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        // Replicas come and go on reused ports; do not keep a connection to a stopped one for long.
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        MaxConnectionsPerServer = int.MaxValue,
        // Requests are correlated by X-Request-Id: no replica reads W3C trace headers, so the gateway
        // does not pay for writing them on every forwarded request.
        ActivityHeadersPropagator = null,
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <inheritdoc />
    public void Dispose() => Http.Dispose();
}
