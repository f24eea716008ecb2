using Kiln.Store;

namespace Kiln.Server.ControlPlane.Controllers;

/// <summary>
/// One deployment's replica records and events from one reconcile step, kept until
/// <see cref="FlushAsync"/> writes them in a single store transaction: a durable commit per
/// deployment and step rather than one per record and per event (a pass that starts or readies
/// thousands of replicas was bound by those commits). The step flushes before anything that must
/// find them stored: a process start while a new replica's record is unwritten (no process runs
/// without a record naming it), a stop or removal, and its own end.
/// </summary>
public sealed class ReplicaWrites(DeploymentEvents events, Dictionary<string, ReplicaRecord> records)
{
    // The last record of each replica, in first-written order; a later one replaces an earlier.
    private readonly List<ReplicaRecord> _replicas = [];
    private readonly List<NewDeploymentEvent> _events = [];

    /// <summary>True while a replica new to the store waits in this batch.</summary>
    public bool HoldsNewReplica { get; private set; }

    /// <summary>Queues <paramref name="r"/>, which the step's records show at once.</summary>
    public void Write(ReplicaRecord r, bool isNew = false)
    {
        var at = _replicas.FindIndex(x => x.ReplicaId == r.ReplicaId);
        if (at >= 0)
        {
            _replicas[at] = r;
        }
        else
        {
            _replicas.Add(r);
        }
        HoldsNewReplica |= isNew;
        records[r.ReplicaId] = r;
    }

    /// <summary>Queues an event about the deployment.</summary>
    public void Event(string account, string deploymentId, string type, string message) =>
        _events.Add(new NewDeploymentEvent(account, deploymentId, type, message));

    /// <summary>Writes what is queued, if anything, and puts the stored records in the step's records.</summary>
    public async Task FlushAsync(CancellationToken ct)
    {
        if (_replicas.Count == 0 && _events.Count == 0)
        {
            return;
        }
        var stored = await events.AppendWithReplicasAsync([.. _replicas], [.. _events], ct);
        foreach (var r in stored)
        {
            records[r.ReplicaId] = r;
        }
        _replicas.Clear();
        _events.Clear();
        HoldsNewReplica = false;
    }
}
