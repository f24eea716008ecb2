using Kiln.Store;

namespace Kiln.Server.ControlPlane;

/// <summary>
/// Appends a deployment's events (what <c>kilnctl get deployment</c> shows) and logs each one, so an
/// operator reading the server's log sees every replica start, exit, scale decision and deletion
/// without querying each deployment.
/// </summary>
public sealed class DeploymentEvents(IKilnStore store, ILogger<DeploymentEvents> log)
{
    // Events that mean something went wrong are warnings; the rest is the normal lifecycle.
    private static readonly HashSet<string> Troubles = new(StringComparer.Ordinal)
    {
        "ReplicaExited", "ReplicaFailed", "ReplicaStartFailed", "ReplicaLost", "AddonLoadFailed",
    };

    /// <summary>Appends and logs one event.</summary>
    public async Task AppendAsync(string account, string deploymentId, string type, string message, CancellationToken ct = default)
    {
        Log(account, deploymentId, type, message);
        await store.AppendEventAsync(account, deploymentId, type, message, ct);
    }

    /// <summary>
    /// Appends and logs many events in one store transaction (one durable commit, not one per
    /// event); those of deployments gone meanwhile are left out.
    /// </summary>
    public async Task AppendAllAsync(IReadOnlyList<NewDeploymentEvent> batch, CancellationToken ct = default)
    {
        if (batch.Count == 0)
        {
            return;
        }
        foreach (var e in batch)
        {
            Log(e.Account, e.DeploymentId, e.Type, e.Message);
        }
        await store.AppendEventsAsync(batch, ct);
    }

    /// <summary>
    /// Writes replica records and logs and appends events about them in one store transaction
    /// (<see cref="IKilnStore.WriteReplicasAsync"/>); returns the records as stored.
    /// </summary>
    public async Task<IReadOnlyList<ReplicaRecord>> AppendWithReplicasAsync(
        IReadOnlyList<ReplicaRecord> replicas, IReadOnlyList<NewDeploymentEvent> batch, CancellationToken ct = default)
    {
        var stored = await store.WriteReplicasAsync(replicas, batch, ct);
        foreach (var e in batch)
        {
            Log(e.Account, e.DeploymentId, e.Type, e.Message);
        }
        return stored;
    }

    private void Log(string account, string deploymentId, string type, string message)
    {
        var level = Troubles.Contains(type) || (type == "StateChanged" && message.Contains("-> FAILED", StringComparison.Ordinal))
            ? LogLevel.Warning
            : LogLevel.Information;
        log.Log(level, "accounts/{Account}/deployments/{Deployment} {Event}: {Message}", account, deploymentId, type, message);
    }
}
