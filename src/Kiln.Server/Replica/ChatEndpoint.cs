using System.Text.Json;
using Kiln.Engine.Serving;
using Microsoft.AspNetCore.Http;

namespace Kiln.Server.Replica;

/// <summary><c>POST /v1/chat/completions</c>: messages rendered by the chat formatter, plain or streamed.</summary>
internal static class ChatEndpoint
{
    public static async Task HandleAsync(HttpContext ctx, ReplicaState state)
    {
        var session = state.RequireSession(ctx);
        using var body = await RequestBody.ReadAsync(ctx);
        var request = ChatRequest.Parse(body.RootElement, session.Tokenizer, session.Scheduler.ContextSize);
        var s = request.Settings;

        string text;
        try
        {
            text = session.ChatFormatter.Format(request.Messages, addGenerationPrompt: true);
        }
        catch (Exception e)
        {
            // Template failures come from what the messages contain (roles, ordering): the client's to fix.
            throw ApiException.Invalid($"The chat template could not render these messages: {e.Message}", "messages", "template_error");
        }
        int[] prompt = PromptEncoding.Encode(session.Tokenizer, text, session.Scheduler.ContextSize, "messages");
        var lease = Submission.ResolveModel(session, body.RootElement);
        var generations = Submission.Submit(session, [prompt], s, promptLogprobs: false, "messages", ctx.RequestAborted, lease);
        state.Ledger.Track(ctx, generations, s.N);

        var call = new Call(ApiResponses.NewId("chatcmpl-"), ApiResponses.Now(), lease?.Name ?? state.ModelName, s, prompt.Length);
        ctx.Items[AccessLog.ResponseIdItem] = call.Id;
        if (s.Stream) await StreamAsync(ctx, call, generations);
        else
        {
            await CompleteAsync(ctx, call, generations);
            state.Ledger.Delivered(ctx); // the answer carried its usage
        }
    }

    private sealed record Call(string Id, long Created, string Model, GenerationSettings Settings, int PromptTokens);

    private static async Task CompleteAsync(HttpContext ctx, Call call, IReadOnlyList<Generation> generations)
    {
        var results = await Task.WhenAll(generations.Select(g => g.CollectAsync(ctx.RequestAborted)));
        await ApiResponses.WriteJsonAsync(ctx, 200, w =>
        {
            w.WriteStartObject();
            ApiResponses.WriteHeader(w, call.Id, "chat.completion", call.Created, call.Model);
            w.WriteStartArray("choices");
            for (var i = 0; i < results.Length; i++)
            {
                w.WriteStartObject();
                w.WriteNumber("index", i);
                w.WriteStartObject("message");
                w.WriteString("role", "assistant");
                w.WriteString("content", results[i].Text);
                w.WriteNull("refusal");
                w.WriteEndObject();
                LogprobsJson.WriteChat(w, call.Settings.Sampling.Logprobs ? results[i].Logprobs ?? [] : null);
                w.WriteString("finish_reason", results[i].Finish.ToApiString());
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
        var completionTokens = new int[generations.Count];
        var wantsLogprobs = call.Settings.Sampling.Logprobs;
        await sse.StartAsync();
        for (var i = 0; i < generations.Count; i++) WriteChunk(sse, call, i, role: true, "", null, null);
        await sse.FlushAsync();

        try
        {
            var events = new GenerationStreams(generations, ctx.RequestAborted);
            while (await events.WaitToReadAsync())
            {
                while (events.TryRead(out var i, out var e))
                {
                    completionTokens[i] = e.CompletionTokens;
                    if (e.Text.Length > 0 || e.Logprobs is not null)
                        WriteChunk(sse, call, i, role: false, e.Text, wantsLogprobs ? e.Logprobs ?? [] : null, null);
                    if (e.Finish is { } finish)
                        WriteChunk(sse, call, i, role: false, null, null, finish);
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

        if (call.Settings.IncludeUsage)
        {
            await sse.WriteAsync(w =>
            {
                w.WriteStartObject();
                ApiResponses.WriteHeader(w, call.Id, "chat.completion.chunk", call.Created, call.Model);
                w.WriteStartArray("choices");
                w.WriteEndArray();
                ApiResponses.WriteUsage(w, call.PromptTokens, completionTokens.Sum());
                w.WriteEndObject();
            });
        }
        await sse.DoneAsync();
    }

    /// <summary>Writes one chunk into the stream's buffer (its delta: the role, content, or nothing); the caller flushes.</summary>
    private static void WriteChunk(SseWriter sse, Call call, int index, bool role, string? content,
        IReadOnlyList<LogprobEntry>? logprobs, FinishReason? finish)
    {
        var w = sse.Begin();
        ApiResponses.BeginChunkChoice(w, call.Id, "chat.completion.chunk", call.Created, call.Model, index);
        w.WriteStartObject("delta");
        if (role) w.WriteString("role", "assistant");
        if (content is not null) w.WriteString("content", content);
        w.WriteEndObject();
        LogprobsJson.WriteChat(w, logprobs);
        ApiResponses.EndChunkChoice(w, finish, call.Settings.IncludeUsage);
        sse.End();
    }
}
