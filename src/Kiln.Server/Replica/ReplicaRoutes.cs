using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kiln.Server.Replica;

/// <summary>The replica's routes, each wrapped so bad input becomes an OpenAI-style error, never a crash.</summary>
internal static class ReplicaRoutes
{
    public static void Map(WebApplication app, ReplicaState state)
    {
        app.MapPost("/v1/completions", Guard(state, CompletionEndpoint.HandleAsync, GenerationBodyLimit));
        app.MapPost("/v1/chat/completions", Guard(state, ChatEndpoint.HandleAsync, GenerationBodyLimit));
        app.MapGet("/v1/models", Guard(state, ModelsAsync));
        app.MapGet("/v1/models/{**id}", Guard(state, ModelAsync));
        app.MapPost("/v1/adapters", Guard(state, AdaptersEndpoint.LoadAsync));
        app.MapGet("/v1/adapters", Guard(state, AdaptersEndpoint.ListAsync));
        app.MapDelete("/v1/adapters/{**name}", Guard(state, AdaptersEndpoint.UnloadAsync));
        app.MapGet("/v1/usage/{key}", Guard(state, (ctx, st) => st.Ledger.HandleAsync(ctx)));
        app.MapGet("/health", Guard(state, HealthAsync));
        app.MapGet("/metrics", Guard(state, MetricsEndpoint.HandleAsync));
        app.MapFallback(Guard(state, (ctx, _) => throw new ApiException(404,
            $"Unknown request URL: {ctx.Request.Method} {ctx.Request.Path}.", "invalid_request_error", code: "unknown_url")));
    }

    private static long GenerationBodyLimit(ReplicaState state) => state.Options.GenerationBodyLimit(state.Session?.Scheduler.ContextSize);

    private static RequestDelegate Guard(
        ReplicaState state, Func<HttpContext, ReplicaState, Task> handler, Func<ReplicaState, long>? bodyLimit = null) => async ctx =>
    {
        var limit = bodyLimit?.Invoke(state) ?? ReplicaOptions.OtherBodyBytes;
        LargeBodies.Turn? turn;
        try
        {
            // A body refused for its declared length costs nothing to parse and need not wait its turn.
            turn = ctx.Request.ContentLength > limit ? null : await LargeBodies.EnterAsync(ctx.Request.ContentLength, ctx.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            return; // the client went away while waiting
        }
        using (turn) await GuardedAsync(ctx, state, handler, limit);
    };

    private static async Task GuardedAsync(HttpContext ctx, ReplicaState state, Func<HttpContext, ReplicaState, Task> handler, long bodyLimit)
    {
        try
        {
            if (RequestLimits.Check(ctx.Request) is { } head) throw head;
            if (RequestLimits.LimitBody(ctx, bodyLimit) is { } body) throw body;
            await handler(ctx, state);
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // The client went away; the scheduler has already been told through the same token.
        }
        catch (Exception e) when (!ctx.Response.HasStarted)
        {
            var error = e switch
            {
                ApiException api => api,
                BadHttpRequestException bad => new ApiException(bad.StatusCode, bad.Message, "invalid_request_error", code: CodeOf(bad.StatusCode)),
                _ => null,
            };
            if (error is null)
            {
                ctx.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Kiln.Replica")
                    .LogError(e, "{RequestId} {Method} {Path} failed", ctx.TraceIdentifier, ctx.Request.Method, ctx.Request.Path);
                error = new ApiException(500, $"The server failed to handle the request: {e.Message}", "server_error");
            }
            await ApiResponses.WriteErrorAsync(ctx, error);
        }
    }

    private static string? CodeOf(int status) => status switch
    {
        StatusCodes.Status413PayloadTooLarge => "request_too_large",
        StatusCodes.Status414UriTooLong => "request_target_too_long",
        StatusCodes.Status431RequestHeaderFieldsTooLarge => "request_header_fields_too_large",
        _ => null,
    };

    private static Task HealthAsync(HttpContext ctx, ReplicaState state)
    {
        if (state.Session is not null) return ApiResponses.WriteJsonAsync(ctx, 200, w => { w.WriteStartObject(); w.WriteString("status", "ok"); w.WriteEndObject(); });
        var (error, download) = (state.LoadError, state.Download);
        return ApiResponses.WriteJsonAsync(ctx, 503, w =>
        {
            w.WriteStartObject();
            w.WriteString("status", error is not null ? "error" : download is not null ? "downloading" : "loading");
            if (error is not null) w.WriteString("error", error);
            else if (download is not null)
            {
                w.WriteNumber("downloadedBytes", download.Done);
                if (download.Total is { } total) w.WriteNumber("totalBytes", total);
            }
            w.WriteEndObject();
        });
    }

    private static Task ModelsAsync(HttpContext ctx, ReplicaState state) =>
        ApiResponses.WriteJsonAsync(ctx, 200, w =>
        {
            w.WriteStartObject();
            w.WriteString("object", "list");
            w.WriteStartArray("data");
            WriteModel(w, state);
            foreach (var a in state.Session?.Adapters?.List() ?? []) WriteAdapterModel(w, state, a.Name);
            w.WriteEndArray();
            w.WriteEndObject();
        });

    private static Task ModelAsync(HttpContext ctx, ReplicaState state)
    {
        var id = ctx.Request.RouteValues["id"] as string;
        if (id is not null && state.Session?.Adapters?.Find(id) is { } adapter)
            return ApiResponses.WriteJsonAsync(ctx, 200, w => WriteAdapterModel(w, state, adapter.Name));
        if (id != state.ModelName)
            throw new ApiException(404, $"The model '{id}' does not exist.", "invalid_request_error", "model", "model_not_found");
        return ApiResponses.WriteJsonAsync(ctx, 200, w => WriteModel(w, state));
    }

    private static void WriteModel(System.Text.Json.Utf8JsonWriter w, ReplicaState state)
    {
        w.WriteStartObject();
        w.WriteString("id", state.ModelName);
        w.WriteString("object", "model");
        w.WriteNumber("created", state.Created);
        w.WriteString("owned_by", "kiln");
        if (state.Session is { } s) w.WriteNumber("context_length", s.Scheduler.ContextSize);
        w.WriteEndObject();
    }

    /// <summary>An adapter listed as a model of its own, with the base model as its parent.</summary>
    private static void WriteAdapterModel(System.Text.Json.Utf8JsonWriter w, ReplicaState state, string name)
    {
        w.WriteStartObject();
        w.WriteString("id", name);
        w.WriteString("object", "model");
        w.WriteNumber("created", state.Created);
        w.WriteString("owned_by", "kiln");
        w.WriteString("parent", state.ModelName);
        w.WriteString("kind", "lora_adapter");
        if (state.Session is { } s) w.WriteNumber("context_length", s.Scheduler.ContextSize);
        w.WriteEndObject();
    }
}
