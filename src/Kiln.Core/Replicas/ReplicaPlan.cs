using Kiln.Core.Deployments;

namespace Kiln.Core.Replicas;

/// <summary>What <see cref="ReplicaPlanner.Plan"/> decided for one deployment.</summary>
/// <param name="Actions">The steps, in the order to carry them out.</param>
/// <param name="Replicas">The replicas as they are once every step is done (every start assumed to succeed).</param>
/// <param name="CapacityProblem">Why a replica could not start for lack of free slots, or null.</param>
public sealed record ReplicaPlan(IReadOnlyList<ReplicaAction> Actions, IReadOnlyList<ReplicaFacts> Replicas, string? CapacityProblem)
{
    /// <summary>
    /// <see cref="Replicas"/>, except that the starts in <paramref name="failedStarts"/> (replica ID
    /// to error) did not succeed: those replicas are FAILED with one more failure.
    /// </summary>
    public IReadOnlyList<ReplicaFacts> Outcome(IReadOnlyDictionary<string, string> failedStarts) =>
        failedStarts.Count == 0
            ? Replicas
            : [.. Replicas.Select(r => failedStarts.TryGetValue(r.Id, out var error)
                ? r with { Phase = ReplicaPhase.Failed, FailureCount = r.FailureCount + 1, LastError = error, HasProcess = false }
                : r)];
}
