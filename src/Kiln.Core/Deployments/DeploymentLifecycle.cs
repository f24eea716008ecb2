using Kiln.Core.Errors;

namespace Kiln.Core.Deployments;

/// <summary>The pure rules that turn desired and observed state into a deployment's state.</summary>
/// <remarks>
/// <list type="bullet">
/// <item>DELETED is terminal. After a delete request the state is DELETING until no replica is
/// left, then DELETED.</item>
/// <item>FAILED when there is a fatal error, or when no replica is ready and one has failed
/// <c>maxReplicaFailures</c> times in a row.</item>
/// <item>A deployment that has not been ready yet (or is recovering from FAILED) is CREATING until
/// its first replica is ready. With zero desired replicas there is nothing to wait for, so it is
/// READY: the next request wakes it.</item>
/// <item>READY needs a ready replica, unless none is desired: a deployment that had been ready
/// and has none ready while some are desired (a wake from zero, replicas that crashed) is CREATING
/// until one is.</item>
/// <item>Once ready, it is UPDATING while a spec change rolls out — until no replica of an older
/// generation is still serving or starting and a current-generation replica is ready (or none is
/// desired) — and READY otherwise. Autoscaling alone (desired count changes) keeps it READY.</item>
/// </list>
/// </remarks>
public static class DeploymentLifecycle
{
    /// <summary>Consecutive failures of a replica after which, with none ready, the deployment is FAILED.</summary>
    public const int DefaultMaxReplicaFailures = 3;

    /// <summary>Assesses the deployment; pure and deterministic.</summary>
    public static DeploymentAssessment Assess(DeploymentObservation o, int maxReplicaFailures = DefaultMaxReplicaFailures)
    {
        var stats = ReplicaStats.From(o.Replicas.Select(r => r.Phase));
        var readyCurrent = o.Replicas.Count(r => r.Phase == ReplicaPhase.Ready && r.Generation >= o.Generation);
        var staleActive = o.Replicas.Any(r => r.Generation < o.Generation && r.Phase is ReplicaPhase.Pending or ReplicaPhase.Downloading or ReplicaPhase.Initializing or ReplicaPhase.Ready);
        // A rollout is done once every old-generation replica is replaced and a current one serves
        // (or none is wanted); how many serve is the autoscaler's business, not the rollout's.
        var rolledOut = !staleActive && (readyCurrent > 0 || o.DesiredReplicaCount == 0);
        var observed = rolledOut ? Math.Max(o.ObservedGeneration, o.Generation) : o.ObservedGeneration;

        DeploymentAssessment Result(DeploymentState state, string message, StatusCode code = StatusCode.Ok) =>
            new(state, code, message, observed, stats);

        if (o.CurrentState == DeploymentState.Deleted)
        {
            return Result(DeploymentState.Deleted, "deleted");
        }
        if (o.DeleteRequested)
        {
            return stats.Total == 0
                ? Result(DeploymentState.Deleted, "deleted")
                : Result(DeploymentState.Deleting, $"stopping {Plural(stats.Total, "replica")}");
        }
        if (o.FatalError is not null)
        {
            return Result(DeploymentState.Failed, o.FatalError, StatusCode.FailedPrecondition);
        }
        if (stats.Ready == 0)
        {
            var crashing = o.Replicas
                .Where(r => r.Phase == ReplicaPhase.Failed && r.FailureCount >= maxReplicaFailures)
                .OrderBy(r => r.ReplicaId, StringComparer.Ordinal)
                .FirstOrDefault();
            if (crashing is not null)
            {
                var why = crashing.LastError is null ? "" : $": {crashing.LastError}";
                return Result(DeploymentState.Failed,
                    $"replica {crashing.ReplicaId} failed {Plural(crashing.FailureCount, "time")} in a row{why}",
                    StatusCode.Unavailable);
            }
        }

        var hasBeenReady = o.CurrentState is DeploymentState.Ready or DeploymentState.Updating;
        if (!hasBeenReady && stats.Ready == 0 && o.DesiredReplicaCount > 0)
        {
            return Result(DeploymentState.Creating, $"waiting for replicas: {Describe(stats, o)}");
        }
        if (!rolledOut && o.ObservedGeneration < o.Generation && (hasBeenReady || stats.Ready > 0))
        {
            return Result(DeploymentState.Updating,
                $"rolling out generation {o.Generation}: {readyCurrent} of {o.DesiredReplicaCount} replicas updated and ready");
        }
        if (stats.Ready == 0 && o.DesiredReplicaCount > 0)
        {
            // READY promises an answer without waiting for a replica to start (or zero replicas
            // wanted, woken by the next request); a deployment whose replicas all went away is
            // CREATING again until one is back.
            return Result(DeploymentState.Creating, $"waiting for replicas: {Describe(stats, o)}");
        }
        return Result(DeploymentState.Ready,
            o.DesiredReplicaCount == 0 && stats.Total == 0 ? "scaled to zero; the next request wakes it" : Describe(stats, o));
    }

    private static string Describe(ReplicaStats s, DeploymentObservation o)
    {
        var parts = new List<string> { $"{s.Ready} of {o.DesiredReplicaCount} ready" };
        if (s.Downloading > 0) { parts.Add($"{s.Downloading} downloading the model{DownloadDetail(o)}"); }
        if (s.Initializing > 0) { parts.Add($"{s.Initializing} initializing"); }
        if (s.Pending > 0)
        {
            // A cluster scheduler's reason is what an operator needs to see: why nothing starts.
            var waits = o.Replicas.Where(r => r.Phase == ReplicaPhase.Pending && r.WaitReason is not null)
                .Select(r => r.WaitReason!).Distinct().Order(StringComparer.Ordinal).ToList();
            parts.Add(waits.Count == 0 ? $"{s.Pending} pending" : $"{s.Pending} pending ({string.Join("; ", waits)})");
        }
        if (s.Failed > 0) { parts.Add($"{s.Failed} failed"); }
        if (s.Stopping > 0) { parts.Add($"{s.Stopping} stopping"); }
        return string.Join(", ", parts);
    }

    /// <summary>" (5.0 of 19.0 MB (26%))": the least advanced download, the one everyone waits for.</summary>
    private static string DownloadDetail(DeploymentObservation o) =>
        o.Replicas.Where(r => r.Phase == ReplicaPhase.Downloading && r.Download is not null)
            .Select(r => r.Download!)
            .OrderBy(d => d.Total is > 0 ? (double)d.Done / d.Total.Value : 0)
            .FirstOrDefault() is { } slowest ? $": {slowest.Describe()}" : "";

    private static string Plural(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n} {noun}s";
}
