using Kiln.Core.Errors;

namespace Kiln.Core.Deployments;

/// <summary>The inputs of <see cref="DeploymentLifecycle.Assess"/>: desired and observed state.</summary>
public sealed record DeploymentObservation
{
    /// <summary>The state last written to the store.</summary>
    public DeploymentState CurrentState { get; init; }

    /// <summary>The status code last written to the store.</summary>
    public StatusCode CurrentCode { get; init; }

    /// <summary>The status message last written to the store.</summary>
    public string CurrentMessage { get; init; } = "";

    /// <summary>True once a delete has been requested.</summary>
    public bool DeleteRequested { get; init; }

    /// <summary>Why deletion was requested, when the requester gave a reason (the reaper does), or null.</summary>
    public DeletionReason? DeletionReason { get; init; }

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

    /// <summary>Why a replica could not start for lack of free accelerators, or null.</summary>
    public string? CapacityProblem { get; init; }
}
