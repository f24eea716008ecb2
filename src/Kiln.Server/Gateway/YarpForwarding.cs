using System.Net;
using System.Net.Http.Headers;
using Yarp.ReverseProxy.Forwarder;

namespace Kiln.Server.Gateway;

/// <summary>
/// Sends one attempt of a whole-answer (non-streaming) request through YARP's <see cref="IHttpForwarder"/>
/// instead of <see cref="ReplicaClient"/>, keeping the gateway's rules: only Kiln's headers and the
/// (possibly rewritten) body go to the replica, a 503 (or a 429 while another replica is free) or an
/// answer cut off before its end is retried elsewhere, and the whole answer is read for its usage.
/// Chosen with <c>KILN_GATEWAY_FORWARDER=yarp</c>, to measure it against the default proxy.
/// </summary>
public sealed class YarpForwarding(IHttpForwarder forwarder) : IDisposable
{
    /// <summary>True when the environment asks for this forwarder.</summary>
    public static bool Requested => Environment.GetEnvironmentVariable("KILN_GATEWAY_FORWARDER") == "yarp";

    private static readonly ForwarderRequestConfig Config = new()
    {
        Version = HttpVersion.Version11,
        VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        // A long completion is one activity: the gateway sets no time limit on generation.
        ActivityTimeout = TimeSpan.FromDays(1),
    };

    // YARP refuses HttpClient (it would buffer answers), so it gets its own pool, set up as ReplicaClient's.
    private readonly HttpMessageInvoker _invoker = new(ReplicaClient.NewHandler());

    /// <summary>How one attempt went: the client's status, or why another replica should answer.</summary>
    public sealed record Outcome(int? Status, string? Failure, bool Billed, bool Succeeded, TokenUsage? Usage);

    /// <summary>Forwards one attempt; the client's response is untouched unless <see cref="Outcome.Status"/> is set.</summary>
    public async Task<Outcome> ForwardAsync(HttpContext ctx, ReplicaEndpoint endpoint, string path, byte[] payload, string requestId, string usageKey, bool retryOnBusy)
    {
        var whole = new WholeAnswer(new Uri(endpoint.BaseUri, path), requestId, usageKey, retryOnBusy);
        // YARP sends the client's request body and refuses another: the body to send is put in its place.
        ctx.Request.Body = new MemoryStream(payload, writable: false);
        ctx.Request.ContentLength = payload.Length;
        var error = await forwarder.SendAsync(ctx, endpoint.BaseUri.ToString(), _invoker, Config, whole, ctx.RequestAborted);
        if (error == ForwarderError.None && whole.Outcome is { } outcome)
        {
            return outcome;
        }
        ctx.RequestAborted.ThrowIfCancellationRequested();
        // YARP wrote a 502 of its own; the caller retries or answers in OpenAI's shape instead.
        ctx.Response.Clear();
        var e = ctx.Features.Get<IForwarderErrorFeature>()?.Exception;
        var refused = e?.InnerException is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionRefused };
        return new Outcome(null, e?.Message ?? error.ToString(), refused, false, null);
    }

    /// <inheritdoc />
    public void Dispose() => _invoker.Dispose();

    /// <summary>The request and response hooks of one attempt.</summary>
    private sealed class WholeAnswer(Uri target, string requestId, string usageKey, bool retryOnBusy) : HttpTransformer
    {
        public Outcome? Outcome { get; private set; }

        public override ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
        {
            // No client header goes on (its API key least of all): only the body and Kiln's two headers.
            proxyRequest.RequestUri = target;
            proxyRequest.Content!.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            proxyRequest.Content.Headers.ContentLength = httpContext.Request.ContentLength;
            proxyRequest.Headers.TryAddWithoutValidation(InferenceProxy.RequestIdHeader, requestId);
            proxyRequest.Headers.TryAddWithoutValidation(RequestMeter.UsageKeyHeader, usageKey);
            return ValueTask.CompletedTask;
        }

        public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
        {
            if (proxyResponse is null)
            {
                return false;
            }
            var status = (int)proxyResponse.StatusCode;
            var response = httpContext.Response;
            if (status == (int)HttpStatusCode.ServiceUnavailable || (status == (int)HttpStatusCode.TooManyRequests && retryOnBusy))
            {
                response.StatusCode = StatusCodes.Status200OK;
                Outcome = new Outcome(null, $"HTTP {status}", Billed: true, Succeeded: false, null);
                return false;
            }
            var succeeded = status is >= 200 and < 300;
            byte[] bytes;
            try
            {
                bytes = await proxyResponse.Content.ReadAsByteArrayAsync(cancellationToken);
            }
            catch (Exception e) when (e is HttpRequestException or IOException)
            {
                response.StatusCode = StatusCodes.Status200OK;
                Outcome = new Outcome(null, e.Message, Billed: false, Succeeded: false, null);
                return false;
            }
            response.ContentType = proxyResponse.Content.Headers.ContentType?.ToString() ?? "application/json";
            if (proxyResponse.Headers.RetryAfter is { } retry)
            {
                response.Headers.RetryAfter = retry.ToString();
            }
            response.ContentLength = bytes.Length;
            await response.Body.WriteAsync(bytes, cancellationToken);
            var read = TokenUsage.TryRead(bytes, out var usage);
            Outcome = new Outcome(status, null, Billed: false, succeeded, read || !succeeded ? usage : null);
            return false; // the answer went out above, whole
        }
    }
}
