namespace Kiln.Core.Deployments;

/// <summary>Defaults and limits of deployment fields, as on Fireworks.</summary>
public static class DeploymentDefaults
{
    /// <summary>Default <c>minReplicaCount</c>: scale to zero when idle.</summary>
    public const int MinReplicaCount = 0;

    /// <summary>Upper bound on replica counts, to catch typos before they start processes.</summary>
    public const int ReplicaLimit = 100;

    /// <summary>Default <c>acceleratorCount</c> (world size).</summary>
    public const int AcceleratorCount = 1;

    /// <summary>Largest <c>acceleratorCount</c>: one node's worth.</summary>
    public const int MaxAcceleratorCount = 8;

    /// <summary>Largest <c>maxAddonCount</c>, to catch typos before replicas fill their memory.</summary>
    public const int MaxAddonCountLimit = 1000;

    /// <summary>Longest <c>displayName</c>.</summary>
    public const int MaxDisplayNameLength = 256;

    /// <summary>The longest <c>description</c> accepted.</summary>
    public const int MaxDescriptionLength = 4096;

    /// <summary>
    /// Default <c>acceleratorType</c> where no inventory is known. The API passes the type its
    /// runtime's inventory can place instead (<see cref="Kiln.Core.Accelerators.Placement.DefaultType"/>).
    /// </summary>
    public const AcceleratorType Accelerator = AcceleratorType.Cpu;

    /// <summary>Default <c>precision</c>: an F32 KV cache, exact against the reference.</summary>
    public const Precision Precision = Deployments.Precision.Fp32;

    /// <summary>The engine replicas run unless a deployment names another: Kiln's own.</summary>
    public const string Engine = Engines.EngineProfiles.KilnName;

    /// <summary>Most extra engine arguments one deployment may give.</summary>
    public const int MaxEngineArgs = 64;

    /// <summary>Longest extra engine argument.</summary>
    public const int MaxEngineArgLength = 1024;

    /// <summary>Default <c>autoscalingPolicy.scaleUpWindow</c>.</summary>
    public static readonly TimeSpan ScaleUpWindow = TimeSpan.FromSeconds(30);

    /// <summary>Default <c>autoscalingPolicy.scaleDownWindow</c>.</summary>
    public static readonly TimeSpan ScaleDownWindow = TimeSpan.FromMinutes(10);

    /// <summary>Default <c>autoscalingPolicy.scaleToZeroWindow</c>.</summary>
    public static readonly TimeSpan ScaleToZeroWindow = TimeSpan.FromHours(1);

    /// <summary>Default <c>unusedAutoDeleteDuration</c> (one week); zero disables auto-deletion.</summary>
    public static readonly TimeSpan UnusedAutoDeleteDuration = TimeSpan.FromHours(168);

    /// <summary>Default load target: 80% batch occupancy.</summary>
    public const double DefaultLoadTarget = 0.8;

    /// <summary>Default <c>autoscalingPolicy.loadTargets</c>.</summary>
    public static IReadOnlyDictionary<string, double> LoadTargets { get; } =
        new Dictionary<string, double> { [Deployments.LoadTargets.Default] = DefaultLoadTarget }.AsReadOnly();

    /// <summary>Default <c>maxReplicaCount</c> for a given min: 1 when min is 0, else min.</summary>
    public static int MaxReplicaCountFor(int minReplicaCount) => Math.Max(minReplicaCount, 1);
}
