using Kiln.Core.Deployments;

namespace Kiln.Core.Autoscaling;

/// <summary>What the autoscaler looks at for one deployment at one instant.</summary>
public sealed record AutoscalerInput
{
    /// <summary>The deployment's <c>minReplicaCount</c>.</summary>
    public required int MinReplicas { get; init; }

    /// <summary>The deployment's <c>maxReplicaCount</c>; at least 1 and at least <see cref="MinReplicas"/>.</summary>
    public required int MaxReplicas { get; init; }

    /// <summary>Windows and load targets.</summary>
    public AutoscalingPolicy Policy { get; init; } = new();

    /// <summary>The desired replica count now in force (the one a decision moves from).</summary>
    public required int CurrentReplicas { get; init; }

    /// <summary>Load samples, oldest first; samples later than <see cref="Now"/> are ignored.</summary>
    public IReadOnlyList<LoadSample> History { get; init; } = [];

    /// <summary>When the last request arrived, or null if none ever did.</summary>
    public DateTimeOffset? LastRequestTime { get; init; }

    /// <summary>When the deployment was created: the idle clock's start while no request has arrived.</summary>
    public required DateTimeOffset CreateTime { get; init; }

    /// <summary>Requests held at the gateway waiting for a replica to become ready.</summary>
    public int HeldRequests { get; init; }

    /// <summary>The current time, read by the caller from its clock.</summary>
    public required DateTimeOffset Now { get; init; }

    /// <summary>An input with the spec's bounds and policy; set the load fields with <c>with</c>.</summary>
    public static AutoscalerInput For(DeploymentSpec spec, int currentReplicas, DateTimeOffset createTime, DateTimeOffset now) => new()
    {
        MinReplicas = spec.MinReplicaCount,
        MaxReplicas = spec.MaxReplicaCount,
        Policy = spec.AutoscalingPolicy,
        CurrentReplicas = currentReplicas,
        CreateTime = createTime,
        Now = now,
    };
}
