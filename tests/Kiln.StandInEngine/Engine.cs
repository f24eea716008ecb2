using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kiln.StandInEngine;

/// <summary>The stand-in's HTTP surface.</summary>
public sealed class Engine(EngineCommandLine command, Metrics metrics)
{
    private readonly ConcurrentDictionary<string, string> _adapters = new(StringComparer.Ordinal);
    private readonly int _tokenDelayMs = int.TryParse(Environment.GetEnvironmentVariable("STANDIN_TOKEN_MS"), out var ms) ? ms : 0;
    private int _inFlight;

    public async Task ServeAsync(HttpListenerContext ctx)
    {
        Interlocked.Increment(ref _inFlight);
        try
        {
            var path = ctx.Request.Url?.AbsolutePath ?? "/";
            var post = ctx.Request.HttpMethod == "POST";
            switch (path)
            {
                case "/health":
                    await Json(ctx, 200, new JsonObject());
                    break;
                case "/metrics":
                    await Text(ctx, 200, metrics.Render(), "text/plain; version=0.0.4");
                    break;
                case "/v1/models":
                    await Json(ctx, 200, Models());
                    break;
                case "/v1/completions" or "/v1/chat/completions" when post:
                    await CompleteAsync(ctx, chat: path.EndsWith("chat/completions", StringComparison.Ordinal));
                    break;
                case "/v1/load_lora_adapter" or "/v1/unload_lora_adapter" when post && command.Dialect == Dialect.Vllm:
                    await LoraAsync(ctx, load: path.Contains("/load", StringComparison.Ordinal));
                    break;
                case "/load_lora_adapter" or "/unload_lora_adapter" when post && command.Dialect == Dialect.Sglang:
                    await LoraAsync(ctx, load: path.StartsWith("/load", StringComparison.Ordinal));
                    break;
                case "/standin/load" when post:
                    var load = await Body(ctx);
                    metrics.Force(Number(load, "running"), Number(load, "waiting"), Number(load, "kv"));
                    await Json(ctx, 200, new JsonObject());
                    break;
                default:
                    await Error(ctx, 404, $"no route {ctx.Request.HttpMethod} {path}");
                    break;
            }
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
        {
            // The client went away.
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    public async Task DrainAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Volatile.Read(ref _inFlight) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
    }

    private JsonObject Models()
    {
        var data = new JsonArray { new JsonObject { ["id"] = command.ServedModelName, ["object"] = "model", ["parent"] = null } };
        foreach (var name in _adapters.Keys.Order(StringComparer.Ordinal))
        {
            data.Add(new JsonObject { ["id"] = name, ["object"] = "model", ["parent"] = command.ServedModelName });
        }
        return new JsonObject { ["object"] = "list", ["data"] = data };
    }

    private async Task LoraAsync(HttpListenerContext ctx, bool load)
    {
        var body = await Body(ctx);
        var name = body?["lora_name"]?.GetValue<string>();
        if (!command.Lora)
        {
            await Error(ctx, 400, "LoRA is not enabled: start the server with --enable-lora");
            return;
        }
        if (command.Dialect == Dialect.Vllm && Environment.GetEnvironmentVariable("VLLM_ALLOW_RUNTIME_LORA_UPDATING") is not ("True" or "true" or "1"))
        {
            await Error(ctx, 404, "runtime LoRA updating is not allowed (VLLM_ALLOW_RUNTIME_LORA_UPDATING)");
            return;
        }
        if (string.IsNullOrEmpty(name))
        {
            await Error(ctx, 400, "lora_name is required");
            return;
        }
        if (!load)
        {
            await (_adapters.TryRemove(name, out _)
                ? Text(ctx, 200, $"Success: LoRA adapter '{name}' removed successfully.", "text/plain")
                : Error(ctx, 404, $"The lora adapter '{name}' cannot be found."));
            return;
        }
        var path = body?["lora_path"]?.GetValue<string>();
        if (path is null || !File.Exists(Path.Combine(path, "adapter_config.json")))
        {
            await Error(ctx, 400, $"No adapter found for {path}");
            return;
        }
        _adapters[name] = path;
        await Text(ctx, 200, $"Success: LoRA adapter '{name}' added successfully.", "text/plain");
    }

    private async Task CompleteAsync(HttpListenerContext ctx, bool chat)
    {
        var body = await Body(ctx);
        var model = body?["model"]?.GetValue<string>();
        if (model != command.ServedModelName && (model is null || !_adapters.ContainsKey(model)))
        {
            await Error(ctx, 404, $"The model `{model}` does not exist.");
            return;
        }
        var prompt = chat
            ? string.Join(' ', (body?["messages"] as JsonArray ?? []).Select(m => m?["content"]?.GetValue<string>() ?? ""))
            : body?["prompt"]?.GetValue<string>() ?? "";
        var promptTokens = prompt.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        var maxTokens = body?["max_tokens"]?.GetValue<int>() ?? 16;
        var stream = body?["stream"]?.GetValue<bool>() == true;
        var includeUsage = body?["stream_options"]?["include_usage"]?.GetValue<bool>() == true;
        // Deterministic: the same request always gets the same words; an adapter's answers say which adapter.
        var words = Enumerable.Range(0, maxTokens).Select(i => $" {(model == command.ServedModelName ? "w" : model + ":w")}{i}").ToList();
        var usage = new JsonObject { ["prompt_tokens"] = promptTokens, ["completion_tokens"] = words.Count, ["total_tokens"] = promptTokens + words.Count };
        var id = chat ? "chatcmpl-standin" : "cmpl-standin";
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        metrics.Started();
        var sent = 0;
        try
        {
            if (!stream)
            {
                foreach (var _ in words)
                {
                    await Tick();
                    sent++;
                }
                var choice = chat
                    ? new JsonObject { ["index"] = 0, ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = string.Concat(words) }, ["finish_reason"] = "length" }
                    : new JsonObject { ["index"] = 0, ["text"] = string.Concat(words), ["finish_reason"] = "length" };
                await Json(ctx, 200, new JsonObject
                {
                    ["id"] = id,
                    ["object"] = chat ? "chat.completion" : "text_completion",
                    ["created"] = created,
                    ["model"] = model,
                    ["choices"] = new JsonArray { choice },
                    ["usage"] = usage,
                });
                return;
            }
            ctx.Response.StatusCode = 200;
            ctx.Response.ContentType = "text/event-stream";
            ctx.Response.SendChunked = true;
            var output = ctx.Response.OutputStream;
            for (var i = 0; i < words.Count; i++)
            {
                await Tick();
                var last = i == words.Count - 1;
                var choice = chat
                    ? new JsonObject { ["index"] = 0, ["delta"] = new JsonObject { ["content"] = words[i] }, ["finish_reason"] = last ? "length" : null }
                    : new JsonObject { ["index"] = 0, ["text"] = words[i], ["finish_reason"] = last ? "length" : null };
                await Event(output, new JsonObject { ["id"] = id, ["object"] = chat ? "chat.completion.chunk" : "text_completion", ["created"] = created, ["model"] = model, ["choices"] = new JsonArray { choice } });
                sent++;
            }
            if (includeUsage)
            {
                await Event(output, new JsonObject { ["id"] = id, ["object"] = chat ? "chat.completion.chunk" : "text_completion", ["created"] = created, ["model"] = model, ["choices"] = new JsonArray(), ["usage"] = usage });
            }
            await output.WriteAsync("data: [DONE]\n\n"u8.ToArray());
            ctx.Response.Close();
        }
        finally
        {
            metrics.Finished(promptTokens, sent);
        }
    }

    private Task Tick() => _tokenDelayMs > 0 ? Task.Delay(_tokenDelayMs) : Task.CompletedTask;

    private static async Task Event(Stream output, JsonObject chunk)
    {
        await output.WriteAsync(Encoding.UTF8.GetBytes($"data: {chunk.ToJsonString()}\n\n"));
        await output.FlushAsync();
    }

    private static async Task<JsonNode?> Body(HttpListenerContext ctx)
    {
        using var reader = new StreamReader(ctx.Request.InputStream, Encoding.UTF8);
        try
        {
            return JsonNode.Parse(await reader.ReadToEndAsync());
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static double Number(JsonNode? o, string name) => o?[name]?.GetValue<double>() ?? 0;

    private static Task Json(HttpListenerContext ctx, int status, JsonNode body) => Text(ctx, status, body.ToJsonString(), "application/json");

    private static Task Error(HttpListenerContext ctx, int status, string message) =>
        Json(ctx, status, new JsonObject { ["error"] = new JsonObject { ["message"] = message, ["type"] = "invalid_request_error", ["code"] = status } });

    private static async Task Text(HttpListenerContext ctx, int status, string body, string contentType)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = contentType;
        ctx.Response.ContentLength64 = bytes.Length;
        await ctx.Response.OutputStream.WriteAsync(bytes);
        ctx.Response.Close();
    }
}
