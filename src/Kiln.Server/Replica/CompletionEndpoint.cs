using System.Text.Json;
using Kiln.Engine.Serving;
using Microsoft.AspNetCore.Http;

namespace Kiln.Server.Replica;

/// <summary><c>POST /v1/completions</c>: legacy text completions, plain or streamed.</summary>
internal static class CompletionEndpoint
{
    public static async Task HandleAsync(HttpContext ctx, ReplicaState state)
    {
        var session = state.RequireSession(ctx);
        using var body = await RequestBody.ReadAsync(ctx);
        var request = CompletionRequest.Parse(body.RootElement, session.Tokenizer, session.Scheduler.ContextSize);
        var s = request.Settings;
        var prompts = request.Prompts.Select(p => p.Tokens).ToArray();
        var echoLogprobs = request.Echo && s.Sampling.Logprobs;
        var lease = Submission.ResolveModel(session, body.RootElement);
        var generations = Submission.Submit(session, prompts, s, echoLogprobs, "prompt", ctx.RequestAborted, lease);
        state.Ledger.Track(ctx, generations, s.N);

        var call = new Call(ApiResponses.NewId("cmpl-"), ApiResponses.Now(), lease?.Name ?? state.ModelName, request, Submission.PromptTokens(prompts));
        ctx.Items[AccessLog.ResponseIdItem] = call.Id;
        if (s.Stream) await StreamAsync(ctx, call, generations);
        else
        {
            await CompleteAsync(ctx, call, generations);
            state.Ledger.Delivered(ctx); // the answer carried its usage
        }
    }

    private sealed record Call(string Id, long Created, string Model, CompletionRequest Request, int PromptTokens)
    {
        public CompletionPrompt PromptOf(int choice) => Request.Prompts[choice / Request.Settings.N];
    }

    private static async Task CompleteAsync(HttpContext ctx, Call call, IReadOnlyList<Generation> generations)
    {
        var results = await Task.WhenAll(generations.Select(g => g.CollectAsync(ctx.RequestAborted)));
        await ApiResponses.WriteJsonAsync(ctx, 200, w =>
        {
            w.WriteStartObject();
            ApiResponses.WriteHeader(w, call.Id, "text_completion", call.Created, call.Model);
            w.WriteStartArray("choices");
            for (var i = 0; i < results.Length; i++)
            {
                var r = results[i];
                var prompt = call.PromptOf(i);
                w.WriteStartObject();
                w.WriteNumber("index", i);
                w.WriteString("text", call.Request.Echo ? prompt.Text + r.Text : r.Text);
                var offset = call.Request.Echo ? 0 : prompt.Text.Length;
                var entries = r.Logprobs is null ? null : call.Request.Echo && r.PromptLogprobs is { } p ? [.. p, .. r.Logprobs] : r.Logprobs;
                LogprobsJson.WriteCompletion(w, entries, ref offset);
                w.WriteString("finish_reason", r.Finish.ToApiString());
                w.WriteEndObject();
            }
            w.WriteEndArray();
            ApiResponses.WriteUsage(w, call.PromptTokens, results.Sum(r => r.CompletionTokens));
            w.WriteEndObject();
        });
    }

    private static async Task StreamAsync(HttpContext ctx, Call call, IReadOnlyList<Generation> generations)
    {
        var sse = new SseWriter(ctx.Response, ctx.RequestAborted);
        var settings = call.Request.Settings;
        var wantsLogprobs = settings.Sampling.Logprobs;
        var offsets = new int[generations.Count];
        var completionTokens = new int[generations.Count];
        await sse.StartAsync();

        for (var i = 0; i < generations.Count; i++)
        {
            offsets[i] = call.Request.Echo ? 0 : call.PromptOf(i).Text.Length;
            // With logprobs the echo waits for the prompt's scores (a PromptLogprobs event).
            if (call.Request.Echo && !wantsLogprobs) WriteChunk(sse, call, i, call.PromptOf(i).Text, null, null, offsets);
        }
        await sse.FlushAsync();

        try
        {
            var events = new GenerationStreams(generations, ctx.RequestAborted);
            while (await events.WaitToReadAsync())
            {
                while (events.TryRead(out var i, out var e))
                {
                    if (e.PromptLogprobs is { } p && call.Request.Echo)
                        WriteChunk(sse, call, i, call.PromptOf(i).Text, p, null, offsets);
                    if (e.Text.Length > 0 || e.Logprobs is not null || e.Finish is not null)
                        WriteChunk(sse, call, i, e.Text, wantsLogprobs ? e.Logprobs ?? [] : null, e.Finish, offsets);
                    completionTokens[i] = e.CompletionTokens;
                }
                await sse.FlushAsync();
            }
            ctx.RequestAborted.ThrowIfCancellationRequested();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await sse.WriteAsync(w => ApiResponses.WriteError(w, new ApiException(500, $"Generation failed: {e.Message}", "server_error")));
            return;
        }

        if (settings.IncludeUsage)
        {
            await sse.WriteAsync(w =>
            {
                w.WriteStartObject();
                ApiResponses.WriteHeader(w, call.Id, "text_completion", call.Created, call.Model);
                w.WriteStartArray("choices");
                w.WriteEndArray();
                ApiResponses.WriteUsage(w, call.PromptTokens, completionTokens.Sum());
                w.WriteEndObject();
            });
        }
        await sse.DoneAsync();
    }

    /// <summary>Writes one chunk into the stream's buffer; the caller flushes.</summary>
    private static void WriteChunk(SseWriter sse, Call call, int index, string text,
        IReadOnlyList<LogprobEntry>? logprobs, FinishReason? finish, int[] offsets)
    {
        var w = sse.Begin();
        ApiResponses.BeginChunkChoice(w, call.Id, "text_completion", call.Created, call.Model, index);
        w.WriteString("text", text);
        LogprobsJson.WriteCompletion(w, logprobs, ref offsets[index]);
        ApiResponses.EndChunkChoice(w, finish, call.Request.Settings.IncludeUsage);
        sse.End();
    }
}
