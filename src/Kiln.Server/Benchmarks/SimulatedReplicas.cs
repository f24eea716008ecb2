using System.Diagnostics;
using System.Globalization;
using System.Text;
using Kiln.Server.Replica;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Kiln.Server.Benchmarks;

/// <summary>
/// One loopback HTTP server that answers <c>/health</c> and <c>/metrics</c> for every simulated
/// replica, so the controllers' probes and scrapes go over real HTTP without real engines. It runs
/// in a process of its own (<c>kiln bench simulated-replicas</c>): real replicas run on other
/// machines, so their side of a scrape is no part of the control plane's CPU time.
/// </summary>
public sealed class SimulatedReplicas : IAsyncDisposable
{
    private readonly Process _process;

    private SimulatedReplicas(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    /// <summary>The port every simulated replica answers on.</summary>
    public int Port { get; }

    /// <summary>What an idle Kiln replica's <c>/metrics</c> answers: every series it exports, as the autoscaler scrapes them.</summary>
    public static byte[] MetricsBody() => Encoding.UTF8.GetBytes(MetricsEndpoint.Render(new ReplicaState(new ReplicaOptions { ModelPath = "" })));

    /// <summary>Starts the server process (this executable) and waits for its port.</summary>
    public static async Task<SimulatedReplicas> StartAsync()
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add("bench");
        psi.ArgumentList.Add("simulated-replicas");
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start the simulated replicas' server");
        var line = await process.StandardOutput.ReadLineAsync();
        if (!int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            process.Kill();
            throw new InvalidOperationException($"the simulated replicas' server did not report its port (it wrote: {line ?? "nothing"})");
        }
        return new SimulatedReplicas(process, port);
    }

    /// <summary>
    /// The server process's body: listens on a free loopback port, writes it as one line, and
    /// serves until its standard input closes (its parent ended, however it ended).
    /// </summary>
    public static async Task<int> ServeAsync(TextReader input, TextWriter output)
    {
        var metrics = MetricsBody();
        var healthy = Encoding.UTF8.GetBytes("""{"status":"ok"}""");
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.AddServerHeader = false);
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http1));
        await using var app = builder.Build();
        app.MapGet("/health", (HttpContext ctx) => Write(ctx, healthy, "application/json"));
        app.MapGet("/metrics", (HttpContext ctx) => Write(ctx, metrics, "text/plain; version=0.0.4; charset=utf-8"));
        await app.StartAsync();
        output.WriteLine(app.Urls.Select(u => new Uri(u)).First().Port.ToString(CultureInfo.InvariantCulture));
        output.Flush();
        while (await input.ReadLineAsync() is not null)
        {
        }
        await app.StopAsync();
        return 0;
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
        _process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
        }
        _process.Dispose();
    }
}
