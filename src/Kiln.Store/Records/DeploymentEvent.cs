namespace Kiln.Store;

/// <summary>One entry of a deployment's append-only event log ("replica r1 ready", "scaled to 0").</summary>
/// <param name="Sequence">Store-wide increasing number; orders events.</param>
/// <param name="Account">The owning account.</param>
/// <param name="DeploymentId">The deployment.</param>
/// <param name="Time">When it happened.</param>
/// <param name="Type">A short machine-friendly kind, e.g. "ReplicaReady", "ScaledDown".</param>
/// <param name="Message">What happened, for people.</param>
public sealed record DeploymentEvent(long Sequence, string Account, string DeploymentId, DateTimeOffset Time, string Type, string Message);

/// <summary>An event to append; the store stamps its time and sequence.</summary>
/// <param name="Account">The owning account.</param>
/// <param name="DeploymentId">The deployment.</param>
/// <param name="Type">A short machine-friendly kind.</param>
/// <param name="Message">What happened, for people.</param>
public sealed record NewDeploymentEvent(string Account, string DeploymentId, string Type, string Message);
