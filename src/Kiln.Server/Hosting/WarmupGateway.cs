using System.Security.Cryptography;
using Kiln.Core.Engines;
using Kiln.Core.Time;
using Kiln.Server.Auth;
using Kiln.Server.Gateway;
using Kiln.Server.Logging;
using Kiln.Server.Signals;
using Kiln.Store;

namespace Kiln.Server.Hosting;

/// <summary>
/// A second inference gateway inside the server process, composed as the server's own (the same
/// services, middleware and routes) over a scratch store, on a loopback port. Requests sent to it
/// run the server's gateway code while nothing of theirs reaches the server's store, directory,
/// counters or clients: it has its own usage recorder, which nothing flushes, its own routing table
/// and counters, and its log lines (the access log's included) are formed and then dropped.
/// </summary>
internal sealed class WarmupGateway : IAsyncDisposable
{
    private readonly WebApplication _app;

    private WarmupGateway(WebApplication app, Uri baseUri)
    {
        _app = app;
        BaseUri = baseUri;
    }

    /// <summary>Where it listens: <c>http://127.0.0.1:PORT/</c>.</summary>
    public Uri BaseUri { get; }

    /// <summary>Its routing table.</summary>
    public ReplicaDirectory Directory => _app.Services.GetRequiredService<ReplicaDirectory>();

    /// <summary>Its usage recorder: what it would write, were it ever flushed.</summary>
    public UsageRecorder Usage => _app.Services.GetRequiredService<UsageRecorder>();

    /// <summary>Starts a gateway over <paramref name="store"/> with the server's gateway options and prices.</summary>
    public static async Task<WarmupGateway> StartAsync(IKilnStore store, ServerOptions options, CancellationToken ct)
    {
        var builder = GatewayComposition.CreateBuilder("http://127.0.0.1:0");
        builder.Logging.AddKilnLines(Stream.Null);
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton<IClock>(SystemClock.Instance);
        builder.Services.AddSingleton(EngineCatalog.Default);
        builder.Services.AddSingleton<ApiKeyCache>();
        builder.Services.AddSingleton(new ReplicaTokens(RandomNumberGenerator.GetBytes(32)));
        builder.Services.AddSingleton<ReconcileSignal>();
        builder.Services.AddSingleton(new Leadership());
        builder.Services.AddSingleton<WakeRequests>();
        GatewayComposition.AddGateway(builder.Services, options.Gateway, options.Prices, options.Controllers.ReapInterval);
        builder.Services.AddHostedService<DirectoryRefresher>();
        var app = builder.Build();
        try
        {
            GatewayComposition.UseFront(app);
            InferenceRoutes.Map(app);
            await app.StartAsync(ct);
            return new WarmupGateway(app, GatewayComposition.ListeningAt(app));
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
