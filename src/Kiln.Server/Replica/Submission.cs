using System.Text.Json;
using Kiln.Engine.Serving;
using Microsoft.AspNetCore.Http;

namespace Kiln.Server.Replica;

/// <summary>Request plumbing shared by the generation endpoints: body parsing, queueing, error mapping.</summary>
internal static class Submission
{
    /// <summary>
    /// Duplicate keys are refused, not resolved: the gateway parses the same body, and two parsers
    /// choosing different values for one key would let a request mean one thing to each.
    /// </summary>
    public static readonly JsonDocumentOptions BodyOptions = new() { AllowDuplicateProperties = false };

    public static async Task<JsonDocument> ReadBodyAsync(HttpContext ctx)
    {
        JsonDocument body;
        try
        {
            if (ctx.Request.ContentLength is { } length && length >= LargeBodies.Threshold)
            {
                // Read into an array of its own, and parsed on a thread of its own into a document
                // that owns exact-size copies: the shared array pool keeps what is returned to it,
                // per thread, so pooled buffers this size would outlive the request many times over.
                var bytes = new byte[length];
                await ctx.Request.Body.ReadExactlyAsync(bytes, ctx.RequestAborted);
                body = await Task.Factory.StartNew(() =>
                {
                    var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { MaxDepth = BodyOptions.MaxDepth });
                    var document = JsonDocument.ParseValue(ref reader);
                    // Anything but whitespace after the value makes Read throw, as Parse would.
                    if (reader.Read()) throw new JsonException("unexpected content after the body's JSON value");
                    return document;
                }, ctx.RequestAborted, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            }
            else
            {
                body = await JsonDocument.ParseAsync(ctx.Request.Body, BodyOptions, ctx.RequestAborted);
            }
        }
        catch (EndOfStreamException)
        {
            throw ApiException.Invalid("The request body is shorter than its Content-Length.", code: "invalid_json");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // The duplicate-key check reads keys, and throws InvalidOperationException on unreadable ones.
            throw ApiException.Invalid($"We could not parse the JSON body of your request: {e.Message}", code: "invalid_json");
        }
        // Only the large-body path parsed without the duplicate-key check.
        if (JsonFields.FirstUnusable(body.RootElement, duplicates: ctx.Request.ContentLength >= LargeBodies.Threshold) is { } problem)
        {
            body.Dispose();
            throw ApiException.Invalid($"We could not parse the JSON body of your request: {problem}.", code: "invalid_json");
        }
        return body;
    }

    /// <summary>
    /// The adapter lease for a request's <c>model</c>: a loaded adapter's name runs it; the base
    /// model's name or any other name runs the base (routing is the gateway's business).
    /// </summary>
    public static AdapterRegistry.Lease? ResolveModel(ModelSession session, JsonElement body) =>
        session.Adapters?.Acquire(JsonFields.String(body, "model"));

    /// <summary>
    /// Queues a request's sequences with the lease's adapter (if any), releasing the lease once the
    /// scheduler is done with every sequence, or at once if queueing fails.
    /// </summary>
    public static IReadOnlyList<Generation> Submit(
        ModelSession session, IReadOnlyList<int[]> prompts, GenerationSettings s, bool promptLogprobs,
        string promptParam, CancellationToken cancellationToken, AdapterRegistry.Lease? lease)
    {
        LargeBodies.Parsed();
        IReadOnlyList<Generation> generations;
        try
        {
            generations = Submit(session, prompts, s, promptLogprobs, promptParam, cancellationToken, lease?.Adapters);
        }
        catch
        {
            lease?.Dispose();
            throw;
        }
        if (lease is not null)
            _ = Task.WhenAll(generations.Select(g => g.Finished)).ContinueWith(_ => lease.Dispose(), TaskScheduler.Default);
        return generations;
    }

    private static IReadOnlyList<Generation> Submit(
        ModelSession session, IReadOnlyList<int[]> prompts, GenerationSettings s, bool promptLogprobs,
        string promptParam, CancellationToken cancellationToken, Kiln.Engine.Lora.LoraSet? adapters)
    {
        var scheduler = session.Scheduler;
        var total = prompts.Count * s.N;
        var capacity = scheduler.MaxBatchSize + session.MaxQueue;
        if (total > capacity)
            throw ApiException.Invalid(
                $"This request asks for {total} sequences (prompts × n) but the server can hold at most {capacity}.", "n");

        var requests = new List<GenerationRequest>(total);
        foreach (var prompt in prompts)
            for (var j = 0; j < s.N; j++)
                requests.Add(new GenerationRequest(prompt)
                {
                    MaxTokens = s.MaxTokens,
                    Stop = s.Stop,
                    PromptLogprobs = promptLogprobs,
                    Sampling = s.Sampling with { Seed = s.Sampling.Seed + (ulong)j },
                    Adapters = adapters,
                });
        try
        {
            return scheduler.SubmitMany(requests, cancellationToken);
        }
        catch (RequestValidationException e)
        {
            var param = e.Param == "prompt" ? promptParam : e.Param;
            var code = e.Message.Contains("context length") ? "context_length_exceeded" : null;
            throw ApiException.Invalid(e.Message, param, code);
        }
        catch (QueueFullException e)
        {
            throw new ApiException(429, e.Message, "rate_limit_error", code: "queue_full") { RetryAfterSeconds = 1 };
        }
    }

    public static void WriteHeader(Utf8JsonWriter w, string id, string objectType, long created, string model)
    {
        w.WriteString("id", id);
        w.WriteString("object", objectType);
        w.WriteNumber("created", created);
        w.WriteString("model", model);
        w.WriteNull("system_fingerprint");
    }

    public static int PromptTokens(IEnumerable<int[]> prompts) => prompts.Sum(p => p.Length);
}
