using Kiln.Core.Deployments;
using Kiln.Core.Errors;
using Kiln.Core.Names;

namespace Kiln.Store;

/// <summary>What creating a deployment needs; the store starts it CREATING at generation 1 (also its restart generation).</summary>
/// <param name="Account">The owning account.</param>
/// <param name="Id">The deployment's ID within the account.</param>
/// <param name="Spec">The validated spec.</param>
/// <param name="DesiredReplicaCount">Replicas to start with (<c>DesiredReplicas.Initial</c>).</param>
/// <param name="CreatedBy">Who asked (e.g. an API key ID), for display.</param>
public sealed record NewDeployment(string Account, string Id, DeploymentSpec Spec, int DesiredReplicaCount, string? CreatedBy = null);

/// <summary>A replica count a user asked for (<c>:scale</c>), pending until the autoscaler takes it.</summary>
public sealed record ScaleRequest(string Account, string DeploymentId, int ReplicaCount, DateTimeOffset RequestTime);

/// <summary>A deployment's <c>status</c>: OK or an error code, with a message.</summary>
public sealed record DeploymentStatus(StatusCode Code, string Message)
{
    /// <summary>OK with no message.</summary>
    public static readonly DeploymentStatus Ok = new(StatusCode.Ok, "");
}

/// <summary>What the reconciler writes back after assessing a deployment.</summary>
/// <param name="State">The new state.</param>
/// <param name="Status">The new status.</param>
/// <param name="ObservedGeneration">The newest generation fully rolled out; never moves backwards.</param>
public sealed record DeploymentStatusUpdate(DeploymentState State, DeploymentStatus Status, long ObservedGeneration);

/// <summary>A stored deployment: its spec (desired state) and its status (observed state).</summary>
public sealed record DeploymentRecord
{
    /// <summary>The owning account.</summary>
    public required string Account { get; init; }

    /// <summary>The deployment's ID within the account.</summary>
    public required string Id { get; init; }

    /// <summary>What the user asked for.</summary>
    public required DeploymentSpec Spec { get; init; }

    /// <summary>Lifecycle state.</summary>
    public DeploymentState State { get; init; }

    /// <summary>OK or why not.</summary>
    public DeploymentStatus Status { get; init; } = DeploymentStatus.Ok;

    /// <summary>Replicas wanted now (written by the autoscaler alone), within [min, max] of the spec.</summary>
    public int DesiredReplicaCount { get; init; }

    /// <summary>Bumped by every spec change; the optimistic-concurrency token for spec updates.</summary>
    public long Generation { get; init; }

    /// <summary>
    /// The generation of the last spec change that needed new replicas
    /// (<see cref="DeploymentSpecs.RequiresReplicaRestart"/>); replicas of an older generation are
    /// replaced, not moved forward. 0 for deployments stored before it was kept.
    /// </summary>
    public long RestartGeneration { get; init; }

    /// <summary>
    /// Moved by every change to the row (spec, desired count, state and status, deletion), but not
    /// by the last request time; 1 when created, and for rows stored before it was kept. The
    /// optimistic-concurrency token for writes that pass an expected version.
    /// </summary>
    public long Version { get; init; }

    /// <summary>The newest generation fully rolled out.</summary>
    public long ObservedGeneration { get; init; }

    /// <summary>Who created it, if known.</summary>
    public string? CreatedBy { get; init; }

    /// <summary>When it was created.</summary>
    public DateTimeOffset CreateTime { get; init; }

    /// <summary>When its spec or state last changed.</summary>
    public DateTimeOffset UpdateTime { get; init; }

    /// <summary>When deletion was requested.</summary>
    public DateTimeOffset? DeleteTime { get; init; }

    /// <summary>Why deletion was requested, when the requester gave a reason (the reaper does).</summary>
    public DeletionReason? DeletionReason { get; init; }

    /// <summary>When it last received an inference request.</summary>
    public DateTimeOffset? LastRequestTime { get; init; }

    /// <summary>When it was last brought back from DELETED, if ever.</summary>
    public DateTimeOffset? UndeleteTime { get; init; }

    /// <summary>
    /// Where its idle clocks start while no request came since: creation, or the last undelete
    /// (so an undeleted deployment is not auto-deleted or scaled to zero again for its old idleness).
    /// </summary>
    public DateTimeOffset IdleSince => UndeleteTime is { } u && u > CreateTime ? u : CreateTime;

    /// <summary><c>accounts/A/deployments/D</c>.</summary>
    public DeploymentName Name => new(Account, Id);
}
