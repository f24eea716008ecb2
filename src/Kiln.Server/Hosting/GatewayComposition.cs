using Kiln.Core.Billing;
using Kiln.Server.Auth;
using Kiln.Server.Billing;
using Kiln.Server.ControlPlane.Api;
using Kiln.Server.Gateway;
using Kiln.Server.Logging;
using Kiln.Server.WebConsole;
using Kiln.Store;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Kiln.Server.Hosting;

/// <summary>
/// The inference gateway's services and the middleware every request passes before its route, in
/// one place: the server composes them, and so does its warm-up gateway, which must run the same code.
/// </summary>
internal static class GatewayComposition
{
    /// <summary>
    /// A host listening on <paramref name="url"/> with the server's HTTP settings. Kiln reads no
    /// configuration files, so no reload watcher runs over <paramref name="contentRoot"/> (the data
    /// directory, where replica logs and the database change with every request: a watcher there
    /// would wake on each write, about 8% of the gateway's CPU under load).
    /// </summary>
    public static WebApplicationBuilder CreateBuilder(string url, string? contentRoot = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
            ContentRootPath = contentRoot,
        });
        builder.WebHost.UseKestrel(k => k.AddServerHeader = false);
        builder.WebHost.UseUrls(url);
        Kiln.Server.Replica.RequestLimits.ConfigureKestrel(builder.WebHost);
        return builder;
    }

    /// <summary>Where a started host listens, e.g. <c>http://127.0.0.1:51234/</c> (the real port when 0 was asked).</summary>
    public static Uri ListeningAt(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/");

    /// <summary>Registers the gateway's services (the store, clock and auth services come from the caller).</summary>
    public static void AddGateway(IServiceCollection services, GatewayOptions options, PriceTable prices, TimeSpan spendProjection)
    {
        services.AddSingleton(options);
        services.AddSingleton<ReplicaClient>();
        services.AddSingleton<ReplicaConnectionOpener>();
        services.AddSingleton<ReplicaDirectory>();
        services.AddSingleton<UsageRecorder>();
        services.AddSingleton<HoldGate>();
        services.AddSingleton<InferenceProxy>();
        services.AddSingleton(prices);
        // The gateway refuses what the reaper would delete: both project spend over the reaper's interval.
        services.AddSingleton(s => new AccountSpend(s.GetRequiredService<IKilnStore>(), prices, s.GetRequiredService<Kiln.Core.Time.IClock>(), spendProjection));
        services.AddSingleton<SpendGate>();
    }

    /// <summary>
    /// Request IDs, the console's files, routing, error mapping and authentication, in that order;
    /// completions and chat completions leave before routing, through error mapping and authentication.
    /// </summary>
    public static void UseFront(WebApplication app)
    {
        app.UseRequestIds();
        // Before authentication: the console's files are public, its data comes from the API with a key.
        // Before routing too: static files are not served for a request that already matched an
        // endpoint, and the fallback below matches every path.
        ConsoleSite.Use(app);
        // Nearly all of the gateway's traffic: known by method and path, it skips matching among the API's
        // routes (about 15 us of a one-at-a-time request on two cores). Other spellings of these paths
        // (another case, a trailing slash) reach the same handler through routing.
        app.MapWhen(ctx => InferenceRoutes.ForwardedPath(ctx.Request) is not null, inference =>
        {
            UseChecks(inference);
            inference.Run(InferenceRoutes.Forwarder(inference.ApplicationServices));
        });
        app.UseRouting();
        UseChecks(app);
    }

    private static void UseChecks(IApplicationBuilder app)
    {
        app.UseMiddleware<ErrorMiddleware>();
        app.UseMiddleware<BearerAuthMiddleware>();
    }
}
