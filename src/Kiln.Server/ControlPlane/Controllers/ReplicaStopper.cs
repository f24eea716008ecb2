using System.Collections.Concurrent;
using Kiln.Core.Deployments;
using Kiln.Runtime;
using Kiln.Server.Signals;
using Kiln.Store;

namespace Kiln.Server.ControlPlane.Controllers;

/// <summary>
/// Stops replicas in the background: a drain may take many seconds and must not hold up the
/// reconciler's other work. A replica being stopped is STOPPING in the store until its process is
/// gone, then its record is removed.
/// </summary>
public sealed class ReplicaStopper(IKilnStore store, DeploymentEvents events, IReplicaRuntime runtime, ReconcilerOptions options, ReconcileSignal signal, ILogger<ReplicaStopper> log)
{
    private readonly ConcurrentDictionary<string, Task> _inFlight = new();

    /// <summary>True while a stop of this replica is under way.</summary>
    public bool IsStopping(string replicaId) => _inFlight.ContainsKey(replicaId);

    /// <summary>
    /// Starts stopping <paramref name="replica"/>. With <paramref name="keepRecord"/> the caller has
    /// already written the record's new phase and it stays; otherwise it becomes STOPPING and is
    /// removed once the process is gone.
    /// </summary>
    public async Task BeginAsync(ReplicaRecord replica, ReplicaHandle? handle, string reason, bool keepRecord = false, CancellationToken ct = default)
    {
        if (IsStopping(replica.ReplicaId))
        {
            return;
        }
        if (!keepRecord)
        {
            if (handle is null)
            {
                await store.DeleteReplicaAsync(replica.Account, replica.DeploymentId, replica.ReplicaId, ct);
                return;
            }
            if (replica.Phase != ReplicaPhase.Stopping)
            {
                await store.UpsertReplicaAsync(replica with { Phase = ReplicaPhase.Stopping }, ct);
                await events.AppendAsync(replica.Account, replica.DeploymentId, "ReplicaStopping", $"stopping replica {replica.ReplicaId}: {reason}", ct);
            }
        }
        if (handle is null)
        {
            return;
        }
        var gate = new TaskCompletionSource();
        if (!_inFlight.TryAdd(replica.ReplicaId, gate.Task))
        {
            return;
        }
        _ = Task.Run(async () =>
        {
            try
            {
                await runtime.StopAsync(handle, options.DrainTimeout);
                if (!keepRecord)
                {
                    await store.DeleteReplicaAsync(replica.Account, replica.DeploymentId, replica.ReplicaId);
                    await events.AppendAsync(replica.Account, replica.DeploymentId, "ReplicaStopped", $"replica {replica.ReplicaId} stopped");
                }
            }
            catch (Exception e)
            {
                log.LogWarning(e, "stopping replica {Replica} failed", replica.ReplicaId);
            }
            finally
            {
                _inFlight.TryRemove(replica.ReplicaId, out _);
                gate.SetResult();
                signal.Wake();
            }
        }, CancellationToken.None);
    }

    /// <summary>Stops a process no record accounts for.</summary>
    public void StopStray(ReplicaHandle handle)
    {
        var gate = new TaskCompletionSource();
        if (!_inFlight.TryAdd(handle.ReplicaId, gate.Task))
        {
            return;
        }
        _ = Task.Run(async () =>
        {
            try
            {
                log.LogWarning("stopping replica {Replica} ({Handle}): no deployment wants it", handle.ReplicaId, handle.Handle.Describe());
                await runtime.StopAsync(handle, options.DrainTimeout);
            }
            finally
            {
                _inFlight.TryRemove(handle.ReplicaId, out _);
                gate.SetResult();
            }
        }, CancellationToken.None);
    }

    /// <summary>Waits for every stop under way.</summary>
    public Task WaitAllAsync() => Task.WhenAll(_inFlight.Values);
}
