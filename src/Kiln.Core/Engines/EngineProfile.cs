namespace Kiln.Core.Engines;

/// <summary>
/// How Kiln runs, watches and feeds one replica engine: its command line, environment, health
/// path and readiness timeout, the model formats it serves, where its load signals are in its
/// metrics and how it loads addons. Built-in profiles (<see cref="EngineProfiles"/>) cover Kiln's
/// own engine, vLLM, SGLang and llama.cpp's server; the server's configuration file may change them
/// or add named custom ones.
/// </summary>
public sealed record EngineProfile
{
    /// <summary>The profile's name, what a deployment's <c>engine</c> says.</summary>
    public required string Name { get; init; }

    /// <summary>
    /// The command template (<see cref="CommandTemplate"/>); empty for Kiln's own engine, whose
    /// replicas run <c>kiln replica</c> with Kiln's own flags.
    /// </summary>
    public IReadOnlyList<string> Command { get; init; } = [];

    /// <summary>Variables set for the engine's process.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Arguments added when the deployment has addons enabled (e.g. vLLM's <c>--enable-lora</c>).</summary>
    public IReadOnlyList<string> AddonArguments { get; init; } = [];

    /// <summary>Variables added when the deployment has addons enabled.</summary>
    public IReadOnlyDictionary<string, string> AddonEnvironment { get; init; } = new Dictionary<string, string>();

    /// <summary>The path answering 200 once the engine serves.</summary>
    public string HealthPath { get; init; } = "/health";

    /// <summary>How long a replica may take to answer its health path; null keeps the server's start timeout.</summary>
    public TimeSpan? ReadinessTimeout { get; init; }

    /// <summary>The model formats it serves.</summary>
    public IReadOnlyList<ModelFormat> ModelFormats { get; init; } = [ModelFormat.Gguf];

    /// <summary>Sequences run at once (<c>{max_batch}</c>), also the denominator of batch occupancy.</summary>
    public int MaxBatch { get; init; } = 8;

    /// <summary>
    /// The profile as one deployment runs it: a deployment's own max batch (from its shape) is both
    /// what its replicas are started with and the denominator of their batch occupancy.
    /// </summary>
    public EngineProfile ForDeployment(int? maxBatchSize) => maxBatchSize is int batch && batch != MaxBatch ? this with { MaxBatch = batch } : this;

    /// <summary>Context tokens per sequence (<c>{context}</c>); null leaves the model's.</summary>
    public int? Context { get; init; }

    /// <summary>Where its load signals are.</summary>
    public EngineMetricNames Metrics { get; init; } = new();

    /// <summary>How it loads addons.</summary>
    public AddonSupport Addons { get; init; } = AddonSupport.Unsupported("the engine has no runtime adapter API");

    /// <summary>True for Kiln's own engine (<c>kiln replica</c>).</summary>
    public bool IsKiln => Command.Count == 0;
}
