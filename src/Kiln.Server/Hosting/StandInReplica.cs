using System.Text;
using Kiln.Server.Gateway;

namespace Kiln.Server.Hosting;

/// <summary>
/// A loopback endpoint inside the server process that answers as a Kiln replica does, with canned
/// output and no model: completions and chat completions as one JSON object or as a stream of
/// server-sent events ending in <c>[DONE]</c>, the usage ledger, and <c>/health</c>. The gateway's
/// warm-up proxies to it. It runs on Kestrel, the server's own HTTP stack, so what it compiles the
/// gateway would have compiled for its clients anyway.
/// </summary>
internal sealed class StandInReplica : IAsyncDisposable
{
    // Each streamed answer is this many token events (and a usage event): enough for the relay to read and flush in a loop.
    private const int StreamedTokens = 4;
    private const string Usage = """{"prompt_tokens":5,"completion_tokens":4,"total_tokens":9}""";
    private const string CompletionToken = """
        "choices":[{"index":0,"text":" word","finish_reason":null}]
        """;
    private const string ChatToken = """
        "choices":[{"index":0,"delta":{"content":" word"},"finish_reason":null}]
        """;

    private readonly WebApplication _app;
    private int _answered;

    private StandInReplica(WebApplication app) => _app = app;

    /// <summary>Where it listens: <c>http://127.0.0.1:PORT/</c>.</summary>
    public Uri BaseUri { get; private set; } = null!;

    /// <summary>Completions and chat completions answered with status 200.</summary>
    public int Answered => Volatile.Read(ref _answered);

    /// <summary>Starts it on a free loopback port.</summary>
    public static async Task<StandInReplica> StartAsync(CancellationToken ct)
    {
        var builder = GatewayComposition.CreateBuilder("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var replica = new StandInReplica(app);
        app.MapPost("/v1/completions", ctx => replica.AnswerAsync(ctx, chat: false));
        app.MapPost("/v1/chat/completions", ctx => replica.AnswerAsync(ctx, chat: true));
        app.MapGet("/v1/usage/{key}", ctx => WriteJsonAsync(ctx, $$"""{"usage":{{Usage}}}"""));
        app.MapGet("/health", ctx => WriteJsonAsync(ctx, """{"status":"ok"}"""));
        await app.StartAsync(ct);
        replica.BaseUri = GatewayComposition.ListeningAt(app);
        return replica;
    }

    private async Task AnswerAsync(HttpContext ctx, bool chat)
    {
        using var body = new MemoryStream();
        await ctx.Request.Body.CopyToAsync(body, ctx.RequestAborted);
        var request = InferenceBody.Parse(body.ToArray());
        if (request.Stream)
        {
            ctx.Response.ContentType = "text/event-stream";
            for (var i = 0; i < StreamedTokens; i++)
            {
                await WriteEventAsync(ctx, Chunk(chat, request.Model, chat ? ChatToken : CompletionToken));
            }
            await WriteEventAsync(ctx, Chunk(chat, request.Model, $"\"choices\":[],\"usage\":{Usage}"));
            await WriteEventAsync(ctx, "[DONE]");
        }
        else
        {
            var choice = chat
                ? """{"index":0,"message":{"role":"assistant","content":" word word word word"},"finish_reason":"length"}"""
                : """{"index":0,"text":" word word word word","finish_reason":"length"}""";
            await WriteJsonAsync(ctx, $$"""{"id":"warmup","object":"{{(chat ? "chat.completion" : "text_completion")}}","created":0,"model":"{{request.Model}}","choices":[{{choice}}],"usage":{{Usage}}}""");
        }
        Interlocked.Increment(ref _answered);
    }

    private static string Chunk(bool chat, string model, string fields) =>
        $$"""{"id":"warmup","object":"{{(chat ? "chat.completion.chunk" : "text_completion")}}","created":0,"model":"{{model}}",{{fields}}}""";

    private static async Task WriteEventAsync(HttpContext ctx, string data)
    {
        await ctx.Response.WriteAsync($"data: {data}\n\n", Encoding.UTF8, ctx.RequestAborted);
        await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
    }

    private static Task WriteJsonAsync(HttpContext ctx, string json)
    {
        ctx.Response.ContentType = "application/json";
        return ctx.Response.WriteAsync(json, Encoding.UTF8, ctx.RequestAborted);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
