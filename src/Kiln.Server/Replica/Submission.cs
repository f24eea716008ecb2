using System.Text.Json;
using Kiln.Engine.Serving;
using Microsoft.AspNetCore.Http;

namespace Kiln.Server.Replica;

/// <summary>Queueing shared by the generation endpoints: the adapter a request names, its sequences, error mapping.</summary>
internal static class Submission
{
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
                    IgnoreEos = s.IgnoreEos,
                    Stream = s.Stream, // a whole answer is handed over once, not token by token
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

    public static int PromptTokens(IEnumerable<int[]> prompts) => prompts.Sum(p => p.Length);
}
