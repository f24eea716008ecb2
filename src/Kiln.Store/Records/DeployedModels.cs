using Kiln.Core.Models;

namespace Kiln.Store;

/// <summary>What deploying an addon onto a deployment needs; both live in <paramref name="Account"/>.</summary>
/// <param name="Account">The owning account.</param>
/// <param name="Id">The deployed model's ID.</param>
/// <param name="ModelId">The addon's model ID.</param>
/// <param name="DeploymentId">The deployment's ID.</param>
public sealed record NewDeployedModel(string Account, string Id, string ModelId, string DeploymentId);

/// <summary>An addon deployed on a deployment, <c>accounts/A/deployedModels/ID</c>.</summary>
public sealed record DeployedModelRecord
{
    /// <summary>The owning account.</summary>
    public required string Account { get; init; }

    /// <summary>The deployed model's ID.</summary>
    public required string Id { get; init; }

    /// <summary>The addon's model ID.</summary>
    public required string ModelId { get; init; }

    /// <summary>The deployment's ID.</summary>
    public required string DeploymentId { get; init; }

    /// <summary>Where it stands.</summary>
    public DeployedModelState State { get; init; }

    /// <summary>
    /// Why it is not loaded, when a replica refused it (FAILED_PRECONDITION and the replica's
    /// words); null while nothing failed. Cleared once it is loaded on every ready replica.
    /// </summary>
    public DeploymentStatus? Status { get; init; }

    /// <summary>When it was requested.</summary>
    public DateTimeOffset CreateTime { get; init; }

    /// <summary>When its state last changed.</summary>
    public DateTimeOffset UpdateTime { get; init; }

    /// <summary><c>accounts/A/deployedModels/ID</c>.</summary>
    public string Name => $"accounts/{Account}/deployedModels/{Id}";

    /// <summary><c>accounts/A/models/M</c>.</summary>
    public string ModelName => $"accounts/{Account}/models/{ModelId}";

    /// <summary><c>accounts/A/deployments/D</c>.</summary>
    public string DeploymentName => $"accounts/{Account}/deployments/{DeploymentId}";
}
