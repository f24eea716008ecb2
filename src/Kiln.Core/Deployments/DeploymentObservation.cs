namespace Kiln.Core.Deployments;

/// <summary>The inputs of <see cref="DeploymentLifecycle.Assess"/>: desired and observed state.</summary>
public sealed record DeploymentObservation
{
    /// <summary>The state last written to the store.</summary>
    public DeploymentState CurrentState { get; init; }

    /// <summary>True once a delete has been requested.</summary>
    public bool DeleteRequested { get; init; }

    /// <summary>The spec generation (bumped on every spec change).</summary>
    public long Generation { get; init; } = 1;

    /// <summary>The newest generation fully rolled out.</summary>
    public long ObservedGeneration { get; init; }

    /// <summary>Replicas the autoscaler wants now.</summary>
    public int DesiredReplicaCount { get; init; }

    /// <summary>Every replica that still exists, in any phase.</summary>
    public IReadOnlyList<ReplicaObservation> Replicas { get; init; } = [];

    /// <summary>A reason the deployment cannot run at all (e.g. the model file is missing), or null.</summary>
    public string? FatalError { get; init; }
}
