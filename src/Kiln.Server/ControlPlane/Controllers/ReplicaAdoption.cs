using Kiln.Core.Deployments;
using Kiln.Core.Replicas;
using Kiln.Runtime;
using Kiln.Store;

namespace Kiln.Server.ControlPlane.Controllers;

/// <summary>
/// On start, re-attaches to replica processes an earlier control-plane process left running (it
/// may have been killed without a chance to stop them), so that nothing is restarted needlessly and
/// nothing is orphaned.
/// </summary>
/// <remarks>
/// Every replica record is checked, whatever its phase: a process may have started just before the
/// crash, before its record was updated. The runtime proves a process belongs to a replica: the local one by its
/// command line (see <see cref="Kiln.Runtime.Local.LocalProcessRuntime"/>), the Slurm one by its job's name
/// (see <see cref="Kiln.Runtime.Slurm.SlurmRuntime"/>). A replica whose
/// process is gone is marked FAILED and replaced by the reconciler like any other dead replica.
/// </remarks>
public sealed class ReplicaAdoption(IKilnStore store, DeploymentEvents events, IReplicaRuntime runtime, ILogger<ReplicaAdoption> log)
{
    /// <summary>Adopts or writes off every recorded replica.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        await runtime.RefreshAsync(ct);
        foreach (var r in await store.ListAllReplicasAsync(ct))
        {
            var handle = runtime.Adopt(new ReplicaRef(r.Account, r.DeploymentId, r.ReplicaId), RuntimeHandle.Parse(r.RuntimeHandle));
            if (handle is not null)
            {
                log.LogInformation("adopted replica {Replica} ({Handle})", r.ReplicaId, handle.Describe());
                // A queued job stays PENDING with its reason, a download DOWNLOADING: the next pass looks at it again.
                var phase = r.Phase is ReplicaPhase.Ready or ReplicaPhase.Stopping or ReplicaPhase.Pending or ReplicaPhase.Downloading ? r.Phase : ReplicaPhase.Initializing;
                await store.UpsertReplicaAsync(r with
                {
                    Phase = phase,
                    RuntimeHandle = handle.Handle.ToString(),
                    Port = handle.HasEndpoint ? handle.Port : r.Port,
                    Host = handle.HasEndpoint ? handle.Host : r.Host,
                    // What the process holds is what it was given, whatever the record says.
                    Devices = handle.Devices.Count > 0 || handle.Handle.Pid is not null ? handle.Devices : r.Devices,
                }, ct);
                await events.AppendAsync(r.Account, r.DeploymentId, "ReplicaAdopted",
                    $"replica {r.ReplicaId} adopted after a control-plane restart: {handle.Describe()}", ct);
                continue;
            }
            switch (r.Phase)
            {
                case ReplicaPhase.Stopping:
                    await store.DeleteReplicaAsync(r.Account, r.DeploymentId, r.ReplicaId, ct);
                    break;
                case ReplicaPhase.Initializing or ReplicaPhase.Downloading or ReplicaPhase.Ready:
                    const string why = "the process exited while the control plane was down";
                    await store.UpsertReplicaAsync(r with
                    {
                        Phase = ReplicaPhase.Failed,
                        FailureCount = r.Phase == ReplicaPhase.Ready ? 1 : r.FailureCount + 1,
                        LastError = why,
                    }, ct);
                    await events.AppendAsync(r.Account, r.DeploymentId, "ReplicaLost", $"replica {r.ReplicaId} ({RuntimeHandle.Parse(r.RuntimeHandle)?.Describe() ?? "never started"}) is gone: {why}", ct);
                    break;
            }
        }
    }
}
