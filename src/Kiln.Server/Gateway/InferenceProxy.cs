using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;

namespace Kiln.Server.Gateway;

/// <summary>
/// Sends one inference request to a READY replica of its deployment (its session's or prompt
/// prefix's replica, else the least loaded: <see cref="PrefixAffinityBalancer"/>) and relays the
/// answer: JSON whole, SSE event by event with a flush after each read. A replica that fails before
/// the client saw a byte (connection refused or reset, 503, or 429 while another replica is free)
/// or cut off before its whole JSON answer arrived, is left out and the request goes to another one,
/// holding if none is READY; once a byte went out the request is never repeated, and a stream the
/// replica breaks off ends with an error event instead of looking complete.
/// </summary>
public sealed class InferenceProxy(ReplicaClient client, HoldGate hold, GatewayOptions options, ILogger<InferenceProxy> log)
{
    /// <summary>The request header that carries the request's ID to the replica and back to the client.</summary>
    public const string RequestIdHeader = "X-Request-Id";

    /// <summary>Serves <paramref name="body"/> for <paramref name="path"/> (e.g. "v1/chat/completions") as <paramref name="replicaModel"/>; returns the status the client got.</summary>
    public async Task<int> ServeAsync(HttpContext ctx, DeploymentRoute route, string replicaModel, string path, InferenceBody body, RequestMeter meter, CancellationToken ct)
    {
        var payload = body.ForReplica(replicaModel);
        var key = options.Routing == RoutingPolicy.Prefix ? RoutingKey.Of(ctx.Request.Headers, body.Routing) : RoutingKey.None;
        var deadline = DateTimeOffset.UtcNow + options.HoldTimeout;
        // The replica processes tried, as endpoints: one restarted in place is a new endpoint.
        var tried = new List<ReplicaEndpoint>();
        var held = false;
        string? lastFailure = null;
        try
        {
            while (true)
            {
                if (tried.Count >= options.MaxAttempts)
                {
                    throw new OpenAiError(502, $"Deployment {route.Name}: {tried.Count} replicas failed before answering; last: {lastFailure}", "server_error", "upstream_error");
                }
                var endpoint = PrefixAffinityBalancer.Pick(route.Endpoints, key, options.PrefixLoadFactor, tried);
                if (endpoint is null)
                {
                    HoldGate.ThrowIfFailed(route);
                    if (!held)
                    {
                        if (!route.Held.TryEnter())
                        {
                            throw OpenAiError.ScalingUp(
                                $"Deployment {route.Name} is scaling up and already holds {route.Held.Capacity} requests; retry later.",
                                HoldGate.RetryAfterSeconds);
                        }
                        held = true;
                    }
                    await hold.WaitAsync(route, tried, deadline, ct);
                    continue;
                }
                if (held)
                {
                    route.Held.Leave();
                    held = false;
                }
                var moreLeft = route.Endpoints.Any(e => e != endpoint && !tried.Contains(e));
                var attempt = await TryAsync(ctx, endpoint, path, payload, body, meter, retryOnBusy: moreLeft, ct);
                if (attempt.Status is { } status)
                {
                    return status;
                }
                tried.Add(endpoint);
                lastFailure = attempt.Failure;
                log.LogWarning("request {RequestId}: replica {Replica} of {Deployment} failed before answering ({Failure}); trying another",
                    meter.RequestId, endpoint.ReplicaId, route.Name, attempt.Failure);
            }
        }
        finally
        {
            if (held)
            {
                route.Held.Leave();
            }
        }
    }

    private readonly record struct Attempt(int? Status, string? Failure);

    private async Task<Attempt> TryAsync(HttpContext ctx, ReplicaEndpoint endpoint, string path, byte[] payload, InferenceBody body, RequestMeter meter, bool retryOnBusy, CancellationToken ct)
    {
        endpoint.Begin();
        var usageKey = RequestMeter.NewUsageKey();
        // Until the attempt's tokens are known from its answer, the replica's ledger is asked for them.
        var billed = false;
        var succeeded = false;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, endpoint.For(path)) { Content = new ByteArrayContent(payload) };
            // Headers are added and read unparsed: parsing them (and the lock it takes) showed in the gateway's profile.
            request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
            request.Headers.TryAddWithoutValidation(RequestIdHeader, meter.RequestId);
            request.Headers.TryAddWithoutValidation(RequestMeter.UsageKeyHeader, usageKey);
            HttpResponseMessage response;
            try
            {
                // The handler itself answers at the headers; HttpClient's layer would only add its own linked cancellation source.
                response = await client.Invoker.SendAsync(request, ct);
            }
            catch (HttpRequestException e)
            {
                // Refused: the replica never saw the request. Otherwise it may have generated before it failed.
                billed = e.InnerException is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionRefused };
                return new Attempt(null, e.Message);
            }
            using (response)
            {
                var status = (int)response.StatusCode;
                if (status == (int)HttpStatusCode.ServiceUnavailable || (status == (int)HttpStatusCode.TooManyRequests && retryOnBusy))
                {
                    billed = true; // refused before generating anything
                    return new Attempt(null, $"HTTP {status}");
                }
                succeeded = status is >= 200 and < 300;
                var contentType = RawHeader(response.Content.Headers, "Content-Type");
                if (contentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) == true)
                {
                    await RelayEventsAsync(ctx, response, meter, ct);
                    return new Attempt(status, null);
                }
                byte[] bytes;
                try
                {
                    bytes = await response.Content.ReadAsByteArrayAsync(ct);
                }
                catch (Exception e) when (e is HttpRequestException or IOException)
                {
                    // Nothing reached the client yet, so another replica may answer instead.
                    succeeded = false;
                    return new Attempt(null, e.Message);
                }
                await RelayWholeAsync(ctx, response, contentType, bytes, ct);
                if (TokenUsage.TryRead(bytes, out var usage) || !succeeded)
                {
                    // Error answers carry no usage: the replica refused the request before generating.
                    meter.Bill(usage, succeeded);
                    billed = true;
                }
                return new Attempt(status, null);
            }
        }
        finally
        {
            endpoint.End();
            if (!billed)
            {
                meter.BillFromLedger(endpoint.BaseUri, usageKey, succeeded);
            }
        }
    }

    private static async Task RelayWholeAsync(HttpContext ctx, HttpResponseMessage response, string? contentType, byte[] bytes, CancellationToken ct)
    {
        ctx.Response.StatusCode = (int)response.StatusCode;
        ctx.Response.ContentType = contentType ?? "application/json";
        CopyRetryAfter(response, ctx.Response);
        ctx.Response.ContentLength = bytes.Length;
        await ctx.Response.Body.WriteAsync(bytes, ct);
    }

    private static void CopyRetryAfter(HttpResponseMessage from, HttpResponse to)
    {
        if (RawHeader(from.Headers, "Retry-After") is { } retry)
        {
            to.Headers.RetryAfter = retry;
        }
    }

    /// <summary>A header's value as the replica sent it (values joined with ", "), or null.</summary>
    private static string? RawHeader(HttpHeaders headers, string name) =>
        headers.NonValidated.TryGetValues(name, out var values) ? values.ToString() : null;

    private async Task RelayEventsAsync(HttpContext ctx, HttpResponseMessage response, RequestMeter meter, CancellationToken ct)
    {
        ctx.Response.StatusCode = (int)response.StatusCode;
        ctx.Response.ContentType = "text/event-stream";
        ctx.Response.Headers.CacheControl = "no-cache";
        ctx.Response.Headers["X-Accel-Buffering"] = "no";
        await ctx.Response.StartAsync(ct);
        var output = ctx.Response.BodyWriter;
        var relay = new SseRelay();
        string? broken = null;
        await using var upstream = await response.Content.ReadAsStreamAsync(ct);
        var reader = PipeReader.Create(upstream, new StreamPipeReaderOptions(bufferSize: 16 * 1024));
        try
        {
            while (true)
            {
                var read = await reader.ReadAsync(ct);
                var buffer = read.Buffer;
                while (TryTakeEvent(ref buffer, out var evt))
                {
                    relay.Write(evt, output);
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
                if (read.IsCompleted)
                {
                    // What is left is an event cut off mid-way: the client gets the error event instead.
                    break;
                }
                await output.FlushAsync(ct);
            }
        }
        catch (Exception e) when (e is IOException or HttpRequestException && !ct.IsCancellationRequested)
        {
            broken = e.Message;
        }
        finally
        {
            await reader.CompleteAsync();
        }
        if (!relay.Ended)
        {
            log.LogWarning("request {RequestId}: the replica's stream ended before its last event ({Reason})", meter.RequestId, broken ?? "closed early");
            relay.WriteError(output, new OpenAiError(502,
                "The replica serving this request stopped before the response was complete; the output above is partial.",
                "server_error", "upstream_error"));
        }
        await output.FlushAsync(ct);
    }

    private static bool TryTakeEvent(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> evt)
    {
        var reader = new SequenceReader<byte>(buffer);
        if (reader.TryReadTo(out evt, "\n\n"u8, advancePastDelimiter: true))
        {
            buffer = buffer.Slice(reader.Position);
            return true;
        }
        return false;
    }
}
