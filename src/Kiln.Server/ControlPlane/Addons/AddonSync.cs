using System.Collections.Concurrent;
using Kiln.Core.Deployments;
using Kiln.Core.Errors;
using Kiln.Core.Engines;
using Kiln.Core.Models;
using Kiln.Core.Time;
using Kiln.Runtime;
using Kiln.Server.Gateway;
using Kiln.Server.Signals;
using Kiln.Store;

namespace Kiln.Server.ControlPlane.Addons;

/// <summary>
/// Converges the adapters loaded on a deployment's replicas to its deployed models, without
/// restarting anything. The invariant the gateway relies on: a deployed model is DEPLOYED only
/// while every READY replica of its deployment holds it, so a replica loads every addon before it
/// is first marked READY.
/// </summary>
/// <remarks>
/// Level-triggered like the rest of the reconciler: each pass lists what every READY replica holds,
/// loads what is missing and unloads what is no longer wanted (an unload drains the adapter's
/// in-flight requests on the replica, in the background) once the gateway has had time to stop
/// routing to it. An UNDEPLOYING record is removed once no replica holds its adapter. The adapter's name on a replica is the addon's model name.
/// </remarks>
public sealed class AddonSync(
    IKilnStore store, DeploymentEvents events, IReplicaRuntime runtime, ReplicaAdapterClient client, EngineCatalog engines, ReconcilerOptions options, GatewayOptions gateway, IClock clock, ReconcileSignal signal)
{
    private readonly ConcurrentDictionary<(string Replica, string Adapter), Task> _unloading = new();
    private readonly ConcurrentDictionary<(string Replica, string Adapter), string> _lastError = new();

    private sealed record Wanted(DeployedModelRecord Record, string Path, AddonSupport Engine);

    /// <summary>
    /// Loads every wanted addon onto a replica that is about to be marked READY. <paramref name="anyRecords"/>
    /// says whether the pass's read of every deployed model found one on <paramref name="d"/>: when
    /// it found none, nothing is DEPLOYED there (a record is created DEPLOYING and promoted only by a
    /// later pass that reads it), so the store is not asked again.
    /// </summary>
    public async Task PrepareReplicaAsync(DeploymentRecord d, ReplicaHandle replica, bool anyRecords, CancellationToken ct)
    {
        if (!anyRecords)
        {
            return;
        }
        var (wanted, _) = await WantedAsync(d, ct);
        if (wanted.Count == 0)
        {
            return;
        }
        var held = await client.ListAsync(replica, engines.For(d.Spec.Engine).Addons, ct) ?? new Dictionary<string, bool>();
        foreach (var w in wanted.Where(w => !held.ContainsKey(w.Record.ModelName)))
        {
            if (!await LoadAsync(replica, w, ct) && w.Record.State == DeployedModelState.Deployed)
            {
                // Not on every ready replica any more: stop promising it until a later pass loads it.
                await store.SetDeployedModelStateAsync(d.Account, w.Record.Id, DeployedModelState.Deploying, ct);
            }
        }
    }

    /// <summary>
    /// One pass over the deployment's READY replicas. <paramref name="anyRecords"/>: whether the
    /// pass's read of every deployed model found one on <paramref name="d"/>; a deployment with none
    /// that does not enable addons has nothing to converge, and costs no store round trip (a record
    /// created since is seen by the next pass, as one created just after a read of its own would be).
    /// </summary>
    public async Task SyncAsync(DeploymentRecord d, IReadOnlyList<ReplicaRecord> replicas, bool anyRecords, CancellationToken ct)
    {
        if (!anyRecords && !d.Spec.EnableAddons)
        {
            return;
        }
        var (wanted, undeploying) = await WantedAsync(d, ct);
        if (!d.Spec.EnableAddons && wanted.Count == 0 && undeploying.Count == 0)
        {
            return;
        }
        var names = wanted.Select(w => w.Record.ModelName).ToHashSet(StringComparer.Ordinal);
        // A replica that dropped an adapter would run such requests on the base model, so an
        // undeployed addon stays loaded until the gateway has surely stopped routing to it.
        var grace = 2 * gateway.DirectoryRefresh;
        var routedUntil = undeploying.ToDictionary(u => u.ModelName, u => u.UpdateTime + grace, StringComparer.Ordinal);
        var loadedEverywhere = new HashSet<string>(names, StringComparer.Ordinal);
        var heldAnywhere = new HashSet<string>(StringComparer.Ordinal);
        foreach (var r in replicas.Where(r => r.Phase == ReplicaPhase.Ready))
        {
            var handle = runtime.Find(r.ReplicaId);
            var held = handle is null ? null : await client.ListAsync(handle, engines.For(d.Spec.Engine).Addons, ct);
            if (handle is null || held is null)
            {
                loadedEverywhere.Clear(); // cannot tell; promise nothing new this pass
                heldAnywhere.UnionWith(undeploying.Select(u => u.ModelName));
                continue;
            }
            foreach (var w in wanted)
            {
                var name = w.Record.ModelName;
                if (held.GetValueOrDefault(name) || await LoadAsync(handle, w, ct))
                {
                    continue;
                }
                loadedEverywhere.Remove(name);
            }
            foreach (var (name, loaded) in held)
            {
                if (names.Contains(name))
                {
                    continue;
                }
                heldAnywhere.Add(name);
                if (loaded && clock.UtcNow >= routedUntil.GetValueOrDefault(name))
                {
                    BeginUnload(handle, engines.For(d.Spec.Engine).Addons, name);
                }
            }
        }
        foreach (var w in wanted.Where(w => w.Record.State == DeployedModelState.Deploying && loadedEverywhere.Contains(w.Record.ModelName)))
        {
            await store.SetDeployedModelStateAsync(d.Account, w.Record.Id, DeployedModelState.Deployed, ct);
            await events.AppendAsync(d.Account, d.Id, "AddonDeployed", $"addon {w.Record.ModelName} is loaded on every ready replica", ct);
        }
        foreach (var u in undeploying.Where(u => !heldAnywhere.Contains(u.ModelName)))
        {
            await store.DeleteDeployedModelAsync(d.Account, u.Id, ct);
            await events.AppendAsync(d.Account, d.Id, "AddonUndeployed", $"addon {u.ModelName} unloaded from every replica", ct);
        }
    }

    private async Task<(List<Wanted> Wanted, List<DeployedModelRecord> Undeploying)> WantedAsync(DeploymentRecord d, CancellationToken ct)
    {
        var wanted = new List<Wanted>();
        var undeploying = new List<DeployedModelRecord>();
        foreach (var dm in await store.ListDeployedModelsOnAsync(d.Account, d.Id, ct))
        {
            if (dm.State == DeployedModelState.Undeploying)
            {
                undeploying.Add(dm);
            }
            else if (await store.GetModelAsync(d.Account, dm.ModelId, ct) is { State: ModelState.Ready } model)
            {
                wanted.Add(new Wanted(dm, model.FilePath, engines.For(d.Spec.Engine).Addons));
            }
        }
        return (wanted, undeploying);
    }

    private async Task<bool> LoadAsync(ReplicaHandle replica, Wanted w, CancellationToken ct)
    {
        var key = (replica.ReplicaId, w.Record.ModelName);
        if (await client.LoadAsync(replica, w.Engine, w.Record.ModelName, w.Path, ct) is not { } failure)
        {
            _lastError.TryRemove(key, out _);
            return true;
        }
        var error = failure.Error;
        // Report a failure once, not on every pass that retries it.
        if (_lastError.TryGetValue(key, out var last) && last == error)
        {
            return false;
        }
        _lastError[key] = error;
        var message = $"replica {replica.ReplicaId} could not load addon {w.Record.ModelName}: {error}";
        if (failure.Refused)
        {
            // The gateway answers requests for it with 412 and this reason; the base and other addons serve on.
            await store.SetDeployedModelStatusAsync(w.Record.Account, w.Record.Id, new DeploymentStatus(StatusCode.FailedPrecondition, message), ct);
        }
        await events.AppendAsync(replica.Replica.Account, replica.Replica.DeploymentId, "AddonLoadFailed", message, ct);
        return false;
    }

    private void BeginUnload(ReplicaHandle replica, AddonSupport engine, string name)
    {
        var key = (replica.ReplicaId, name);
        if (_unloading.ContainsKey(key))
        {
            return;
        }
        var gate = new TaskCompletionSource();
        if (!_unloading.TryAdd(key, gate.Task))
        {
            return;
        }
        _ = Task.Run(async () =>
        {
            try
            {
                await client.UnloadAsync(replica, engine, name, options.DrainTimeout);
            }
            finally
            {
                _unloading.TryRemove(key, out _);
                gate.SetResult();
                signal.Wake();
            }
        }, CancellationToken.None);
    }
}
