using Kiln.Core.Engines;

namespace Kiln.Server.ControlPlane.Api;

/// <summary>
/// <c>GET /v1/engines</c>: the engine profiles a deployment may name (the built-ins as the server's
/// configuration left them, and its custom ones), with what each serves and can do.
/// </summary>
/// <remarks>
/// Any API key may read it: it says what <c>engine</c> may be. A profile's environment may carry
/// secrets (a hub token), so only the variables' names are shown, never their values.
/// </remarks>
public static class EnginesApi
{
    /// <summary>Maps the route.</summary>
    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/v1/engines", (EngineCatalog engines) => ApiJson.Ok(new
        {
            defaultEngine = Kiln.Core.Deployments.DeploymentDefaults.Engine,
            engines = engines.Names.Select(engines.For).Select(p => new
            {
                name = p.Name,
                builtIn = EngineProfiles.BuiltIn.Any(b => b.Name == p.Name),
                command = p.IsKiln ? (IReadOnlyList<string>)["kiln", "replica"] : p.Command,
                environment = p.Environment.Keys.Order(StringComparer.Ordinal),
                modelFormats = p.ModelFormats.Select(f => f.ToWireName()),
                healthPath = p.HealthPath,
                readinessTimeout = p.ReadinessTimeout is { } t ? Kiln.Core.Time.ProtoDuration.Format(t) : null,
                maxBatch = p.MaxBatch,
                context = p.Context,
                addons = new { supported = p.Addons.Supported, reason = p.Addons.Supported ? null : p.Addons.Reason },
                // Only Kiln's own engine reads the speculation fields (Speculation.EngineRefusal).
                speculation = p.Name == EngineProfiles.KilnName,
                metrics = new
                {
                    running = p.Metrics.Running,
                    waiting = p.Metrics.Waiting,
                    kvCacheUsage = p.Metrics.KvCacheUsage,
                    batchOccupancy = p.Metrics.BatchOccupancy,
                    generatedTokens = p.Metrics.GeneratedTokens,
                    promptTokens = p.Metrics.PromptTokens,
                },
            }),
        }));
}
