namespace Kiln.Core.Deployments;

/// <summary>
/// The fields of a create or update request; null means "not given". Durations arrive already
/// parsed (the API parses the protobuf JSON form, the CLI the Go form).
/// </summary>
public sealed record DeploymentSpecPatch
{
    /// <summary><c>baseModel</c>: required on create, immutable afterwards.</summary>
    public string? BaseModel { get; init; }

    /// <summary><c>displayName</c>.</summary>
    public string? DisplayName { get; init; }

    /// <summary><c>description</c>.</summary>
    public string? Description { get; init; }

    /// <summary><c>minReplicaCount</c>.</summary>
    public int? MinReplicaCount { get; init; }

    /// <summary><c>maxReplicaCount</c>.</summary>
    public int? MaxReplicaCount { get; init; }

    /// <summary><c>autoscalingPolicy</c>; its own null fields are "not given" too.</summary>
    public AutoscalingPolicyPatch? AutoscalingPolicy { get; init; }

    /// <summary><c>unusedAutoDeleteDuration</c>.</summary>
    public TimeSpan? UnusedAutoDeleteDuration { get; init; }

    /// <summary><c>acceleratorType</c>.</summary>
    public AcceleratorType? AcceleratorType { get; init; }

    /// <summary><c>acceleratorCount</c> (firectl's <c>--world-size</c>).</summary>
    public int? AcceleratorCount { get; init; }

    /// <summary><c>enableAddons</c>.</summary>
    public bool? EnableAddons { get; init; }

    /// <summary><c>maxAddonCount</c>.</summary>
    public int? MaxAddonCount { get; init; }

    /// <summary><c>precision</c>.</summary>
    public Precision? Precision { get; init; }

    /// <summary><c>engine</c>.</summary>
    public string? Engine { get; init; }

    /// <summary><c>engineArgs</c>; replaces the whole list when given.</summary>
    public IReadOnlyList<string>? EngineArgs { get; init; }
    /// <summary><c>draftModel</c>; "" removes it.</summary>
    public string? DraftModel { get; init; }

    /// <summary><c>draftTokenCount</c>; 0 removes it.</summary>
    public int? DraftTokenCount { get; init; }

    /// <summary><c>ngramSpeculationLength</c>; 0 removes it.</summary>
    public int? NgramSpeculationLength { get; init; }

    /// <summary><c>deploymentShape</c> as resolved (a version name); "" removes it. When given, <see cref="MaxBatchSize"/> and <see cref="MaxContextLength"/> replace the current values even when null.</summary>
    public string? DeploymentShape { get; init; }

    /// <summary>The shape's max batch size (not a request field).</summary>
    public int? MaxBatchSize { get; init; }

    /// <summary>The shape's context length (not a request field).</summary>
    public int? MaxContextLength { get; init; }

    /// <summary><c>prefixCacheMb</c>.</summary>
    public int? PrefixCacheMb { get; init; }
}

/// <summary>The fields of <c>autoscalingPolicy</c> in a request; null means "not given".</summary>
public sealed record AutoscalingPolicyPatch
{
    /// <summary><c>scaleUpWindow</c>.</summary>
    public TimeSpan? ScaleUpWindow { get; init; }

    /// <summary><c>scaleDownWindow</c>.</summary>
    public TimeSpan? ScaleDownWindow { get; init; }

    /// <summary><c>scaleToZeroWindow</c>.</summary>
    public TimeSpan? ScaleToZeroWindow { get; init; }

    /// <summary><c>loadTargets</c>; replaces the whole map when given.</summary>
    public IReadOnlyDictionary<string, double>? LoadTargets { get; init; }
}
