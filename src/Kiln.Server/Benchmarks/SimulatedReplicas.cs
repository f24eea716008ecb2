using System.Text;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Kiln.Server.Benchmarks;

/// <summary>
/// One loopback HTTP server that answers <c>/health</c> and <c>/metrics</c> for every simulated
/// replica, so the controllers' probes and scrapes go over real HTTP without real engines.
/// </summary>
public sealed class SimulatedReplicas : IAsyncDisposable
{
    // What an idle Kiln replica exports, trimmed to the series the autoscaler reads.
    private static readonly byte[] Metrics = Encoding.UTF8.GetBytes("""
        # TYPE kiln_batch_occupancy gauge
        kiln_batch_occupancy 0.25
        # TYPE kiln_active_sequences gauge
        kiln_active_sequences 2
        # TYPE kiln_queue_depth gauge
        kiln_queue_depth 0
        # TYPE kiln_generated_tokens_total counter
        kiln_generated_tokens_total 1000
        # TYPE kiln_prompt_tokens_total counter
        kiln_prompt_tokens_total 4000

        """);

    private static readonly byte[] Healthy = Encoding.UTF8.GetBytes("""{"status":"ok"}""");

    private readonly WebApplication _app;

    private SimulatedReplicas(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    /// <summary>The port every simulated replica answers on.</summary>
    public int Port { get; }

    /// <summary>Starts the server on a free loopback port.</summary>
    public static async Task<SimulatedReplicas> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.AddServerHeader = false);
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http1));
        var app = builder.Build();
        app.MapGet("/health", (HttpContext ctx) => Write(ctx, Healthy, "application/json"));
        app.MapGet("/metrics", (HttpContext ctx) => Write(ctx, Metrics, "text/plain; version=0.0.4"));
        await app.StartAsync();
        var address = app.Urls.Select(u => new Uri(u)).First();
        return new SimulatedReplicas(app, address.Port);
    }

    private static Task Write(HttpContext ctx, byte[] body, string type)
    {
        ctx.Response.ContentType = type;
        ctx.Response.ContentLength = body.Length;
        return ctx.Response.Body.WriteAsync(body).AsTask();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
