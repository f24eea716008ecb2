using System.Globalization;
using Kiln.Core.Deployments;

namespace Kiln.Runtime.Local;

/// <summary>
/// What an engine's process carries in its environment so that a restarted control plane can adopt
/// it: another engine's command line holds no Kiln flags to read back, as <c>kiln replica</c>'s does.
/// </summary>
/// <param name="ReplicaId">The replica it runs (random, so a recycled process ID is never mistaken for it).</param>
/// <param name="Host">Where it listens.</param>
/// <param name="Port">Its port.</param>
/// <param name="WorldSize">Accelerator slots it holds.</param>
/// <param name="ModelPath">The model it serves.</param>
/// <param name="Precision">The precision it serves at.</param>
/// <param name="HealthPath">The path of its health check.</param>
/// <param name="Engine">The engine profile's name.</param>
public sealed record EngineProcessMark(
    string ReplicaId, string Host, int Port, int WorldSize, string ModelPath, Precision Precision, string HealthPath, string Engine)
{
    private const string Endpoint = "KILN_REPLICA_ENDPOINT";
    private const string World = "KILN_REPLICA_WORLD_SIZE";
    private const string Model = "KILN_REPLICA_MODEL";
    private const string Serving = "KILN_REPLICA_PRECISION";
    private const string Health = "KILN_REPLICA_HEALTH_PATH";
    private const string EngineName = "KILN_REPLICA_ENGINE";

    /// <summary>The environment variables that carry it.</summary>
    public IEnumerable<KeyValuePair<string, string>> Variables() =>
    [
        new(EngineLaunch.ReplicaIdVariable, ReplicaId),
        new(Endpoint, $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}"),
        new(World, WorldSize.ToString(CultureInfo.InvariantCulture)),
        new(Model, ModelPath),
        new(Serving, Precision.ToWireName()),
        new(Health, HealthPath),
        new(EngineName, Engine),
    ];

    /// <summary>The mark in <paramref name="environment"/>, or null when it carries none (or a damaged one).</summary>
    public static EngineProcessMark? Read(IReadOnlyDictionary<string, string> environment)
    {
        string? Get(string name) => environment.TryGetValue(name, out var v) && v.Length > 0 ? v : null;
        if (Get(EngineLaunch.ReplicaIdVariable) is not { } id || Get(Endpoint) is not { } endpoint || Get(Model) is not { } model
            || Get(Health) is not { } health || Get(EngineName) is not { } engine)
        {
            return null;
        }
        var colon = endpoint.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(endpoint.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || !int.TryParse(Get(World), NumberStyles.None, CultureInfo.InvariantCulture, out var world)
            || !Precisions.TryParse(Get(Serving) ?? "", out var precision))
        {
            return null;
        }
        return new EngineProcessMark(id, endpoint[..colon], port, world, model, precision, health, engine);
    }
}
