using Kiln.Core.Names;

namespace Kiln.Core.Deployments;

/// <summary>
/// Everything a user asks of a deployment, with defaults applied. Build one from a request with
/// <see cref="DeploymentSpecs.Create"/> and change it with <see cref="DeploymentSpecs.Update"/>,
/// which apply defaults and validation.
/// </summary>
public sealed record DeploymentSpec
{
    /// <summary>The model served, <c>accounts/A/models/M</c>; fixed after creation.</summary>
    public required string BaseModel { get; init; }

    /// <summary>Optional human-readable name.</summary>
    public string? DisplayName { get; init; }

    /// <summary>Optional free-text description.</summary>
    public string? Description { get; init; }

    /// <summary>Fewest replicas kept running (default 0: scale to zero when idle).</summary>
    public int MinReplicaCount { get; init; } = DeploymentDefaults.MinReplicaCount;

    /// <summary>Most replicas the autoscaler may run (default max(min, 1)); at least 1 and at least min.</summary>
    public int MaxReplicaCount { get; init; } = 1;

    /// <summary>Autoscaler windows and targets.</summary>
    public AutoscalingPolicy AutoscalingPolicy { get; init; } = new();

    /// <summary>Delete the deployment after this long without requests (default 168h); zero disables.</summary>
    public TimeSpan UnusedAutoDeleteDuration { get; init; } = DeploymentDefaults.UnusedAutoDeleteDuration;

    /// <summary>Accelerator per replica (default: what the inventory places; <see cref="DeploymentDefaults.Accelerator"/> where none is known).</summary>
    public AcceleratorType AcceleratorType { get; init; } = DeploymentDefaults.Accelerator;

    /// <summary>Accelerators per replica, the world size: 1, 2, 4 or 8.</summary>
    public int AcceleratorCount { get; init; } = DeploymentDefaults.AcceleratorCount;

    /// <summary>Whether LoRA addons may be loaded onto this deployment.</summary>
    public bool EnableAddons { get; init; }

    /// <summary>
    /// Most addons deployed on it at once; null follows the server's <c>--max-addons-per-deployment</c>.
    /// Each addon takes memory on every replica and a share of every batch's adapter work.
    /// </summary>
    public int? MaxAddonCount { get; init; }

    /// <summary>Serving precision (default FP32); selects the replicas' KV cache type.</summary>
    public Precision Precision { get; init; } = DeploymentDefaults.Precision;

    /// <summary>The engine profile its replicas run (default <c>kiln</c>, Kiln's own; also <c>vllm</c>, <c>sglang</c>, <c>llama-server</c> or a custom profile of the server).</summary>
    public string Engine { get; init; } = DeploymentDefaults.Engine;

    /// <summary>Arguments added to the engine's command line after its profile's.</summary>
    public IReadOnlyList<string> EngineArgs { get; init; } = [];
    /// <summary>A model over the same vocabulary proposing tokens for speculative decoding, <c>accounts/A/models/M</c>; null for none.</summary>
    public string? DraftModel { get; init; }

    /// <summary>Tokens proposed per step when speculating (Fireworks' <c>draftTokenCount</c>).</summary>
    public int? DraftTokenCount { get; init; }

    /// <summary>N-gram speculation (prompt lookup): the length of the n-gram matched; null for none.</summary>
    public int? NgramSpeculationLength { get; init; }

    /// <summary>The deployment shape version its settings came from, <c>accounts/A/deploymentShapes/S/versions/V</c>; null for none.</summary>
    public string? DeploymentShape { get; init; }

    /// <summary>Sequences a replica decodes together; null for the engine's default.</summary>
    public int? MaxBatchSize { get; init; }

    /// <summary>Context tokens per sequence; null for the model's.</summary>
    public int? MaxContextLength { get; init; }

    /// <summary>MiB of prompt KV a Kiln replica keeps for reuse (0: off); null for the replica's default.</summary>
    public int? PrefixCacheMb { get; init; }

    /// <summary>The parsed <see cref="BaseModel"/>; throws INVALID_ARGUMENT if it is not a model name.</summary>
    public ModelName BaseModelName => ModelName.Parse(BaseModel);
}
