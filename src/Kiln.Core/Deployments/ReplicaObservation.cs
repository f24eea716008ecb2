namespace Kiln.Core.Deployments;

/// <summary>What the reconciler knows about one replica when assessing its deployment.</summary>
/// <param name="ReplicaId">The replica's ID.</param>
/// <param name="Phase">Its phase.</param>
/// <param name="Generation">
/// The deployment generation whose spec the replica runs. When no change since then needed a
/// restart (see <see cref="DeploymentSpecs.RequiresReplicaRestart"/>) the reconciler advances it in
/// place; otherwise the replica keeps it until new replicas replace it.
/// </param>
/// <param name="FailureCount">Consecutive failed starts.</param>
/// <param name="LastError">Why it last failed, if it did.</param>
/// <param name="Download">How far it has fetched its model, while DOWNLOADING.</param>
/// <param name="WaitReason">Why a PENDING replica waits in a cluster scheduler's queue, if it does.</param>
public sealed record ReplicaObservation(string ReplicaId, ReplicaPhase Phase, long Generation, int FailureCount = 0, string? LastError = null,
    Replicas.DownloadProgress? Download = null, string? WaitReason = null);
