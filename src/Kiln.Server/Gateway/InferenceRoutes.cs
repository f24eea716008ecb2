using System.Diagnostics;
using System.Text.Json.Serialization;
using Kiln.Core.Names;
using Kiln.Core.Time;
using Kiln.Server.Auth;

namespace Kiln.Server.Gateway;

/// <summary>
/// The OpenAI-compatible inference surface on the server's port: completions, chat completions and
/// the caller's models, under both <c>/inference/v1</c> and <c>/v1</c>.
/// </summary>
public static partial class InferenceRoutes
{
    /// <summary>Maps the routes.</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        // Resolved on the first request, once the host has built every singleton's dependencies.
        var gateway = new Lazy<Services>(() => new Services(app.ServiceProvider));
        foreach (var prefix in InferencePaths.Prefixes)
        {
            app.MapPost($"{prefix}/completions", (HttpContext ctx) => ServeAsync(ctx, gateway.Value, "v1/completions"));
            app.MapPost($"{prefix}/chat/completions", (HttpContext ctx) => ServeAsync(ctx, gateway.Value, "v1/chat/completions"));
            app.MapGet($"{prefix}/models", (HttpContext ctx) => Guard(ctx, () => ModelsAsync(ctx)));
            // Model IDs hold slashes (accounts/A/models/M), so the ID is the rest of the path.
            app.MapGet($"{prefix}/models/{{**id}}", (string id, HttpContext ctx) => Guard(ctx, () => ModelAsync(ctx, id)));
        }
    }

    /// <summary>
    /// The replica path of a <c>POST</c> to completions or chat completions spelled as clients send it
    /// (<c>/v1/completions</c>, <c>/inference/v1/chat/completions</c>, ...), else null: those requests
    /// are served ahead of endpoint routing (<see cref="Forwarder"/>).
    /// </summary>
    public static string? ForwardedPath(HttpRequest request) => !HttpMethods.IsPost(request.Method) ? null : request.Path.Value switch
    {
        "/v1/completions" or "/inference/v1/completions" => "v1/completions",
        "/v1/chat/completions" or "/inference/v1/chat/completions" => "v1/chat/completions",
        _ => null,
    };

    /// <summary>Serves a request <see cref="ForwardedPath"/> names, as the routes <see cref="Map"/> adds for it do.</summary>
    public static RequestDelegate Forwarder(IServiceProvider provider)
    {
        var gateway = new Lazy<Services>(() => new Services(provider));
        return ctx => ServeAsync(ctx, gateway.Value, ForwardedPath(ctx.Request)!);
    }

    /// <summary>
    /// The gateway's singletons a request uses, taken from the host's provider once. Asking
    /// <see cref="HttpContext.RequestServices"/> for them made every request create and dispose a
    /// dependency-injection scope: about 12 us of a one-at-a-time request on two cores.
    /// </summary>
    private sealed class Services(IServiceProvider services)
    {
        public ReplicaDirectory Directory { get; } = services.GetRequiredService<ReplicaDirectory>();
        public GatewayOptions Options { get; } = services.GetRequiredService<GatewayOptions>();
        public IClock Clock { get; } = services.GetRequiredService<IClock>();
        public UsageRecorder Recorder { get; } = services.GetRequiredService<UsageRecorder>();
        public ILogger<InferenceProxy> Log { get; } = services.GetRequiredService<ILogger<InferenceProxy>>();
        public SpendGate SpendGate { get; } = services.GetRequiredService<SpendGate>();
        public ReplicaClient Client { get; } = services.GetRequiredService<ReplicaClient>();
        public InferenceProxy Proxy { get; } = services.GetRequiredService<InferenceProxy>();
    }

    private static Task ServeAsync(HttpContext ctx, Services services, string path) => Guard(ctx, async () =>
    {
        var (directory, options, clock, recorder, log) = (services.Directory, services.Options, services.Clock, services.Recorder, services.Log);
        var caller = Caller.Of(ctx);
        var started = Stopwatch.GetTimestamp();
        await services.SpendGate.EnsureAllowedAsync(caller.AccountId, ctx.RequestAborted);

        var body = InferenceBody.Parse(await ReadBodyAsync(ctx.Request, options.MaxBodyBytes, ctx.RequestAborted));
        DeploymentRoute route;
        try
        {
            route = Resolve(directory, body.Model, caller.AccountId);
        }
        catch (OpenAiError e) when (e.Status == 404)
        {
            // Perhaps created since the last refresh: look once more after a refresh that began after this request.
            await directory.RefreshSinceAsync(started).WaitAsync(ctx.RequestAborted);
            route = Resolve(directory, body.Model, caller.AccountId);
        }
        var replicaModel = ReplicaModel(route, body.Model, caller.AccountId);
        var now = clock.UtcNow;
        route.Touch(now);
        recorder.Arrived(route.Name, now);
        route.Counters.Arrive();
        var meter = new RequestMeter(recorder, services.Client, route.Counters, log,
            caller.AccountId, caller.KeyId, route.Name, replicaModel, ctx.TraceIdentifier);
        var status = 500;
        try
        {
            status = await services.Proxy.ServeAsync(ctx, route, replicaModel, path, body, meter, ctx.RequestAborted);
        }
        catch (OpenAiError e)
        {
            status = e.Status;
            throw;
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            status = 499; // the client closed the request, as nginx counts it
            throw;
        }
        finally
        {
            var elapsed = Stopwatch.GetElapsedTime(started);
            route.Counters.Finish(status, elapsed);
            route.Touch(clock.UtcNow);
            Served(log, ctx.TraceIdentifier, route.Name.ToString(), replicaModel, status, Math.Round(elapsed.TotalMilliseconds, 1));
        }
    });

    // Generated: no boxing or template parsing per request.
    [LoggerMessage(Level = LogLevel.Information, Message = "inference {RequestId} {Deployment} {Model} {Status} {DurationMs}ms")]
    private static partial void Served(ILogger log, string requestId, string deployment, string model, int status, double durationMs);

    /// <summary>The deployment a <c>model</c> field names, among the caller's; 404 otherwise.</summary>
    internal static DeploymentRoute Resolve(ReplicaDirectory directory, string model, string account)
    {
        if (!InferenceTarget.TryParse(model, account, out var target, out var error))
        {
            throw OpenAiError.ModelNotFound(model, error);
        }
        if ((target.Model?.Account ?? target.Deployment!.Account) != account || (target.Deployment is { } dn && dn.Account != account))
        {
            throw OpenAiError.ModelNotFound(model, "it belongs to another account");
        }
        if (target.Deployment is { } name)
        {
            var route = directory.Find(name);
            if (route is null || !route.IsServing)
            {
                throw OpenAiError.ModelNotFound(model, $"deployment {name} does not exist");
            }
            if (target.Model is { } m && !route.Serves(m.ToString()))
            {
                if (route.FailedAddons.TryGetValue(m.ToString(), out var why))
                {
                    throw OpenAiError.AddonFailed(m.ToString(), name.ToString(), why);
                }
                throw OpenAiError.ModelNotFound(model, $"deployment {name} serves {route.Model}{(route.Addons.Count > 0 ? " and its addons" : "")}, not {m}");
            }
            return route;
        }
        var serving = directory.Serving(target.Model!.ToString());
        if (serving.Count == 0)
        {
            var addon = target.Model!.ToString();
            if (directory.Routes.FirstOrDefault(r => r.Name.Account == account && r.IsServing && r.FailedAddons.ContainsKey(addon)) is { } failed)
            {
                throw OpenAiError.AddonFailed(addon, failed.Name.ToString(), failed.FailedAddons[addon]);
            }
            throw OpenAiError.ModelNotFound(model, "no deployment serves it");
        }
        // Several deployments of one model: prefer one that can answer now, then the least busy.
        return serving.OrderByDescending(r => r.Endpoints.Count > 0)
            .ThenBy(r => r.Counters.InFlight / (double)Math.Max(1, r.Endpoints.Count))
            .First();
    }

    /// <summary>
    /// The model name the replica gets: the addon's when the request names an addon deployed on
    /// the route (the replica applies the adapter of that name), else the base model's.
    /// </summary>
    internal static string ReplicaModel(DeploymentRoute route, string model, string account) =>
        InferenceTarget.TryParse(model, account, out var target, out _) && target.Model is { } m && route.Addons.Contains(m.ToString())
            ? m.ToString()
            : route.Model;

    private static Task ModelsAsync(HttpContext ctx)
        => ctx.Response.WriteAsJsonAsync(new { @object = "list", data = ServedModels(ctx) }, ctx.RequestAborted);

    /// <summary>One of the caller's served models, as OpenAI's models.retrieve answers; 404 model_not_found otherwise.</summary>
    private static Task ModelAsync(HttpContext ctx, string id)
    {
        var model = ServedModels(ctx).FirstOrDefault(m => m.Id == id)
            ?? throw OpenAiError.ModelNotFound(id, "no deployment of this account serves it");
        return ctx.Response.WriteAsJsonAsync(model, ctx.RequestAborted);
    }

    /// <summary>The models the caller's serving deployments answer to (bases and deployed addons), by ID.</summary>
    private static IEnumerable<ServedModel> ServedModels(HttpContext ctx)
    {
        var caller = Caller.Of(ctx);
        var directory = ctx.RequestServices.GetRequiredService<ReplicaDirectory>();
        return directory.Routes
            .Where(r => r.Name.Account == caller.AccountId && r.IsServing)
            .SelectMany(r => r.Addons.Append(r.Model).Select(m => (Model: m, Route: r)))
            .GroupBy(x => x.Model, x => x.Route)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new ServedModel(
                g.Key,
                g.Min(r => r.Record.CreateTime).ToUnixTimeSeconds(),
                caller.AccountId,
                [.. g.Select(r => r.Name.ToString()).Order(StringComparer.Ordinal)],
                g.Any(r => r.Endpoints.Count > 0)));
    }

    /// <summary>A model entry of <c>/v1/models</c>: OpenAI's fields, plus the deployments serving it and whether one has a ready replica.</summary>
    private sealed record ServedModel(
        [property: JsonPropertyName("id")] string Id,
        [property: JsonPropertyName("created")] long Created,
        [property: JsonPropertyName("owned_by")] string OwnedBy,
        [property: JsonPropertyName("deployments")] string[] Deployments,
        [property: JsonPropertyName("ready")] bool Ready)
    {
        [JsonPropertyName("object")]
        [JsonPropertyOrder(-1)]
        public string Object => "model";
    }

    private static async Task Guard(HttpContext ctx, Func<Task> handler)
    {
        try
        {
            await handler();
        }
        catch (OpenAiError e)
        {
            await e.WriteAsync(ctx.Response);
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // The client went away; the upstream request was cancelled with it.
        }
    }

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, int limit, CancellationToken ct)
    {
        var declared = request.ContentLength;
        if (declared > limit)
        {
            throw TooLarge(limit);
        }
        // A declared length sizes the buffer once; a chunked body grows it as it comes (one byte past
        // the limit is room enough to see that it is too large).
        var buffer = new byte[declared ?? Math.Min(limit + 1L, 4096)];
        var size = 0;
        while (true)
        {
            if (size == buffer.Length)
            {
                if (declared is not null)
                {
                    break; // the server gives no more than the declared length
                }
                Array.Resize(ref buffer, (int)Math.Min(limit + 1L, 2L * buffer.Length));
            }
            var n = await request.Body.ReadAsync(buffer.AsMemory(size), ct);
            if (n == 0)
            {
                break;
            }
            size += n;
            if (size > limit)
            {
                throw TooLarge(limit);
            }
        }
        return size == buffer.Length ? buffer : buffer[..size];
    }

    private static OpenAiError TooLarge(int limit) =>
        new(413, $"The request body is larger than {limit} bytes.", "invalid_request_error", "request_too_large");
}
