using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;

namespace Kiln.Server.Gateway;

/// <summary>
/// Sends one inference request to the least loaded READY replica of its deployment and relays the
/// answer: JSON whole, SSE event by event with a flush after each read. A replica that fails before
/// the client saw a byte (connection refused or reset, 503, or 429 while another replica is free)
/// or cut off before its whole JSON answer arrived, is left out and the request goes to another one, holding if none is READY; once a byte went
/// out the request is never repeated.
/// </summary>
public sealed class InferenceProxy(ReplicaClient client, HoldGate hold, GatewayOptions options, ILogger<InferenceProxy> log)
{
    /// <summary>What the client got.</summary>
    public readonly record struct Outcome(int Status, TokenUsage Usage);

    /// <summary>Serves <paramref name="body"/> for <paramref name="path"/> (e.g. "v1/chat/completions") as <paramref name="replicaModel"/>.</summary>
    public async Task<Outcome> ServeAsync(HttpContext ctx, DeploymentRoute route, string replicaModel, string path, InferenceBody body, CancellationToken ct)
    {
        var payload = body.ForReplica(replicaModel);
        var deadline = DateTimeOffset.UtcNow + options.HoldTimeout;
        var tried = new List<string>();
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
                var endpoint = LeastOutstandingBalancer.Pick(route.Endpoints, tried);
                if (endpoint is null)
                {
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
                var moreLeft = route.Endpoints.Any(e => e != endpoint && !tried.Contains(e.ReplicaId));
                var attempt = await TryAsync(ctx, endpoint, path, payload, body, retryOnBusy: moreLeft, ct);
                if (attempt.Outcome is { } outcome)
                {
                    return outcome;
                }
                tried.Add(endpoint.ReplicaId);
                lastFailure = attempt.Failure;
                log.LogInformation("replica {Replica} of {Deployment} failed before answering ({Failure}); trying another", endpoint.ReplicaId, route.Name, attempt.Failure);
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

    private readonly record struct Attempt(Outcome? Outcome, string? Failure);

    private async Task<Attempt> TryAsync(HttpContext ctx, ReplicaEndpoint endpoint, string path, byte[] payload, InferenceBody body, bool retryOnBusy, CancellationToken ct)
    {
        endpoint.Begin();
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint.BaseUri, path))
            {
                Content = new ByteArrayContent(payload) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
            };
            HttpResponseMessage response;
            try
            {
                response = await client.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            }
            catch (HttpRequestException e)
            {
                return new Attempt(null, e.Message);
            }
            using (response)
            {
                var status = (int)response.StatusCode;
                if (status == (int)HttpStatusCode.ServiceUnavailable || (status == (int)HttpStatusCode.TooManyRequests && retryOnBusy))
                {
                    return new Attempt(null, $"HTTP {status}");
                }
                if (response.Content.Headers.ContentType?.MediaType == "text/event-stream")
                {
                    var streamed = await RelayEventsAsync(ctx, response, stripUsage: body.Stream && !body.ClientWantsUsage, ct);
                    return new Attempt(new Outcome(status, streamed), null);
                }
                byte[] bytes;
                try
                {
                    bytes = await response.Content.ReadAsByteArrayAsync(ct);
                }
                catch (Exception e) when (e is HttpRequestException or IOException)
                {
                    // Nothing reached the client yet, so another replica may answer instead.
                    return new Attempt(null, e.Message);
                }
                return new Attempt(new Outcome(status, await RelayWholeAsync(ctx, response, bytes, ct)), null);
            }
        }
        finally
        {
            endpoint.End();
        }
    }

    private static async Task<TokenUsage> RelayWholeAsync(HttpContext ctx, HttpResponseMessage response, byte[] bytes, CancellationToken ct)
    {
        ctx.Response.StatusCode = (int)response.StatusCode;
        ctx.Response.ContentType = response.Content.Headers.ContentType?.ToString() ?? "application/json";
        ctx.Response.ContentLength = bytes.Length;
        await ctx.Response.Body.WriteAsync(bytes, ct);
        return TokenUsage.TryRead(bytes, out var usage, out _) ? usage : default;
    }

    private static async Task<TokenUsage> RelayEventsAsync(HttpContext ctx, HttpResponseMessage response, bool stripUsage, CancellationToken ct)
    {
        ctx.Response.StatusCode = (int)response.StatusCode;
        ctx.Response.ContentType = "text/event-stream";
        ctx.Response.Headers.CacheControl = "no-cache";
        ctx.Response.Headers["X-Accel-Buffering"] = "no";
        await ctx.Response.StartAsync(ct);
        var rewriter = new SseRewriter(stripUsage);
        var output = ctx.Response.BodyWriter;
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
                    if (evt.IsSingleSegment)
                    {
                        rewriter.Write(evt.FirstSpan, output);
                    }
                    else
                    {
                        rewriter.Write(evt.ToArray(), output);
                    }
                }
                if (read.IsCompleted)
                {
                    // A stream cut short mid-event: pass on what there is.
                    foreach (var segment in buffer)
                    {
                        output.Write(segment.Span);
                    }
                    reader.AdvanceTo(buffer.End);
                    await output.FlushAsync(ct);
                    break;
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
                await output.FlushAsync(ct);
            }
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            // The replica went away mid-stream; the client keeps what it got (no repeat after the first byte).
        }
        finally
        {
            await reader.CompleteAsync();
        }
        return rewriter.Usage ?? default;
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
