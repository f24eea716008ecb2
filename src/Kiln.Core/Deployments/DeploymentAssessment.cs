using Kiln.Core.Errors;

namespace Kiln.Core.Deployments;

/// <summary>The outcome of <see cref="DeploymentLifecycle.Assess"/>: what to write back as status.</summary>
/// <param name="State">The deployment's state.</param>
/// <param name="Code">OK, or why it failed.</param>
/// <param name="Message">A one-line explanation for <c>status.message</c>.</param>
/// <param name="ObservedGeneration">The newest generation now fully rolled out.</param>
/// <param name="Stats">Replica counts by phase.</param>
public sealed record DeploymentAssessment(DeploymentState State, StatusCode Code, string Message, long ObservedGeneration, ReplicaStats Stats);
