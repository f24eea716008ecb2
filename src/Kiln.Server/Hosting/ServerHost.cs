using Kiln.Core.Errors;
using Kiln.Core.Time;
using Kiln.Runtime;
using Kiln.Runtime.Local;
using Kiln.Server.Auth;
using Kiln.Server.Billing;
using Kiln.Server.ControlPlane;
using Kiln.Server.ControlPlane.Addons;
using Kiln.Server.ControlPlane.Api;
using Kiln.Server.ControlPlane.Catalog;
using Kiln.Server.ControlPlane.Controllers;
using Kiln.Server.ControlPlane.Distribution;
using Kiln.Server.Gateway;
using Kiln.Server.Logging;
using Kiln.Server.Signals;
using Kiln.Server.WebConsole;
using Kiln.Store;

namespace Kiln.Server.Hosting;

/// <summary>
/// The composition root of <c>kiln server</c>: opens the store and the runtime, and wires the
/// control plane (REST API, reconciler, autoscaler, reaper) and the inference gateway into one
/// process behind one port. The only place that knows both halves. Several instances may share one
/// store: each serves the API and the gateway, and the one holding the leader lease runs the controllers.
/// </summary>
public static class ServerHost
{
    /// <summary>Runs until shutdown; returns the exit code.</summary>
    public static async Task<int> RunAsync(ServerOptions options, CancellationToken ct)
    {
        var dir = new DataDirectory(options.DataDir, options.Models.SharePath);
        if (StoreOpener.Open(options.Store, dir.Database) is not { } store)
        {
            return options.Store is not null && StoreOpener.Problem(options.Store) is not null ? 2 : 1;
        }
        var runtime = await RuntimeFactory.CreateAsync(options, dir, ct);
        if (runtime is null)
        {
            store.Dispose();
            return 1;
        }
        var adminKey = await AdminBootstrap.EnsureAsync(store, dir, ct);

        var builder = GatewayComposition.CreateBuilder($"http://{FormatHost(options.Host)}:{options.Port}", dir.Root);
        builder.Logging.AddKilnConsole();
        // A clean stop drains replicas, which may take the whole drain timeout.
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = options.Reconciler.DrainTimeout + TimeSpan.FromSeconds(10));
        builder.Services.AddSingleton<IKilnStore>(store);
        builder.Services.AddSingleton<IClock>(SystemClock.Instance);
        builder.Services.AddSingleton(dir);
        builder.Services.AddSingleton<IReplicaRuntime>(runtime);
        builder.Services.AddSingleton(options.Reconciler);
        builder.Services.AddSingleton(options.Addons);
        builder.Services.AddSingleton(options.Engines);
        builder.Services.AddSingleton(options.Shapes);
        builder.Services.AddSingleton<ReconcileSignal>();
        builder.Services.AddSingleton<WakeRequests>();
        builder.Services.AddSingleton<ApiKeyCache>();
        builder.Services.AddSingleton(ReplicaTokens.FromFile(dir.ReplicaTokenSecretFile));
        builder.Services.AddSingleton(options.Models);
        builder.Services.AddSingleton(options.Imports);
        builder.Services.AddSingleton(options.Imports.Catalog ?? CatalogStore.BuiltIn());
        builder.Services.AddSingleton(ControlPlaneAddress.From(options.Models.AdvertiseUrl, options.Host, options.Port));
        builder.Services.AddSingleton<ServedFiles>();
        builder.Services.AddSingleton<ModelDelivery>();
        builder.Services.AddSingleton<DeploymentEvents>();
        builder.Services.AddSingleton<ReplicaStopper>();
        builder.Services.AddSingleton<ReplicaAdoption>();
        builder.Services.AddSingleton<ReplicaAdapterClient>();
        builder.Services.AddSingleton<AddonSync>();
        builder.Services.AddSingleton<DeploymentPass>();
        builder.Services.AddSingleton(options.Lease);
        builder.Services.AddSingleton(new Leadership());
        builder.Services.AddSingleton<ControllerSet>();
        // The controllers (reconciler, autoscaler, reaper) run only while this instance holds the
        // store's leader lease; the API and the gateway run on every instance.
        builder.Services.AddHostedService<LeaderElector>();
        GatewayComposition.AddGateway(builder.Services, options.Gateway, options.Prices, options.Controllers.ReapInterval);
        builder.Services.AddSingleton<ReplicaScraper>();
        builder.Services.AddSingleton<IReplicaScrapes>(s => s.GetRequiredService<ReplicaScraper>());
        builder.Services.AddHostedService<DirectoryRefresher>();
        builder.Services.AddHostedService<UsageFlusher>();
        builder.Services.AddSingleton(options.Controllers);

        await using var app = builder.Build();
        GatewayComposition.UseFront(app);
        IdentityApi.Map(app);
        ServerApi.Map(app);
        AccountsApi.Map(app);
        ApiKeysApi.Map(app);
        ModelsApi.Map(app);
        CatalogApi.Map(app);
        ModelDownloadApi.Map(app);
        DeploymentsApi.Map(app);
        DeploymentShapesApi.Map(app);
        AcceleratorsApi.Map(app);
        EnginesApi.Map(app);
        HistoryApi.Map(app);
        DeployedModelsApi.Map(app);
        UsageApi.Map(app);
        InferenceRoutes.Map(app);
        MetricsRoute.Map(app);
        app.MapFallback((HttpContext ctx) =>
            throw new KilnError(StatusCode.NotFound, $"no route {ctx.Request.Method} {ctx.Request.Path}"));

        try
        {
            await app.StartAsync(ct);
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"kiln server: cannot listen on {options.Host}:{options.Port}: {e.Message}");
            return 1;
        }
        if (adminKey is not null)
        {
            Console.WriteLine($"Created account \"{AdminBootstrap.AdminAccountId}\" with an admin API key (shown only this once; also saved to {dir.AdminKeyFile}):");
            Console.WriteLine($"  {adminKey}");
        }
        Console.WriteLine($"kiln server listening on http://{FormatHost(options.Host)}:{options.Port} (data: {dir.Root}; store: {StoreOpener.Describe(store)}; {runtime.Describe()}; models: {Describe(options.Models, dir)})");
        var warmup = Task.Run(() => WarmUpGatewayAsync(options, dir.GatewayWarmups, app.Services.GetRequiredService<ILoggerFactory>(), app.Lifetime.ApplicationStopping), CancellationToken.None);
        await app.WaitForShutdownAsync(ct);
        await warmup;
        app.Logger.LogInformation("kiln server stopped");
        (runtime as IDisposable)?.Dispose();
        store.Dispose();
        return 0;
    }

    /// <summary>
    /// Runs the gateway's warm-up beside the started server (which serves meanwhile) and logs what it
    /// did. A warm-up that fails costs the first requests their compiles, nothing more: it never stops the server.
    /// </summary>
    private static async Task WarmUpGatewayAsync(ServerOptions options, string scratchRoot, ILoggerFactory logs, CancellationToken stopping)
    {
        if (options.GatewayWarmup <= TimeSpan.Zero) return;
        var log = logs.CreateLogger("Kiln.Server.GatewayWarmup");
        try
        {
            var report = await GatewayWarmup.RunAsync(options, scratchRoot, options.GatewayWarmup, stopping);
            log.LogInformation("Gateway warm-up: {Report}", report);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            log.LogInformation("Gateway warm-up cut short: the server is stopping");
        }
        catch (Exception e)
        {
            log.LogWarning("Gateway warm-up failed: {Error}", e.Message);
        }
    }

    private static string Describe(ModelDistributionOptions m, DataDirectory dir) => m.Mode switch
    {
        Kiln.Core.ModelFiles.ModelDistribution.Download => $"downloaded into {m.CacheDir} on each node",
        Kiln.Core.ModelFiles.ModelDistribution.Shared => $"shared at {dir.Models}",
        _ => $"local at {dir.Models}",
    };

    private static string FormatHost(string host) => host.Contains(':') && !host.StartsWith('[') ? $"[{host}]" : host;
}
