using System.Net;

namespace Kiln.Server.Gateway;

/// <summary>The pooled HTTP client the gateway and the autoscaler use to reach replicas.</summary>
public sealed class ReplicaClient : IDisposable
{
    private readonly SocketsHttpHandler _handler = new()
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
    };

    /// <summary>Over the same connection pool as <see cref="Http"/>.</summary>
    public ReplicaClient()
    {
        Http = new HttpClient(_handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
        Invoker = new HttpMessageInvoker(_handler, disposeHandler: false);
    }

    /// <summary>The client; no overall timeout, since streams last as long as generation does.</summary>
    public HttpClient Http { get; }

    /// <summary>
    /// The handler without <see cref="HttpClient"/>'s layer (its own linked cancellation source and
    /// response buffering per request): for the hot paths that stream the response themselves.
    /// </summary>
    public HttpMessageInvoker Invoker { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        Http.Dispose();
        Invoker.Dispose();
        _handler.Dispose();
    }
}
