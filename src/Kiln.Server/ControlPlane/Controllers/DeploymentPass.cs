using Kiln.Core.Deployments;
using Kiln.Core.Errors;
using Kiln.Core.Models;
using Kiln.Core.Names;
using Kiln.Core.Time;
using Kiln.Runtime;
using Kiln.Server.ControlPlane.Addons;
using Kiln.Store;

namespace Kiln.Server.ControlPlane.Controllers;

/// <summary>
/// One reconcile step for one deployment: observe its replicas, converge their number and
/// generation to the desired ones, start what fits in the free accelerator slots, and write back
/// the state <see cref="DeploymentLifecycle.Assess"/> derives. Level-triggered and idempotent: it
/// reads everything it needs each time, so repeating it (or a restart between two steps) is harmless.
/// </summary>
public sealed class DeploymentPass(
    IKilnStore store, DeploymentEvents events, IReplicaRuntime runtime, ReplicaStopper stopper, AddonSync addons, DataDirectory dir, IClock clock, ReconcilerOptions options)
{
    /// <summary>Reconciles <paramref name="d"/>.</summary>
    public async Task RunAsync(DeploymentRecord d, CancellationToken ct)
    {
        foreach (var r in await store.ListReplicasAsync(d.Account, d.Id, ct))
        {
            await ObserveAsync(d, r, ct);
        }
        string? fatal = null, capacity = null;
        if (d.DeleteTime is null && d.State != DeploymentState.Deleting)
        {
            var model = await ModelFileAsync(d, ct);
            fatal = model.Problem;
            await RollForwardAsync(d, model.Path, ct);
            await ScaleAsync(d, ct);
            if (fatal is null)
            {
                capacity = await ScheduleAsync(d, model.Path!, ct);
            }
            await addons.SyncAsync(d, await store.ListReplicasAsync(d.Account, d.Id, ct), ct);
        }
        else
        {
            foreach (var r in await store.ListReplicasAsync(d.Account, d.Id, ct))
            {
                await stopper.BeginAsync(r, runtime.Find(r.ReplicaId), "the deployment is being deleted", ct: ct);
            }
        }
        await AssessAsync(d, fatal, capacity, ct);
    }

    /// <summary>Updates a replica's phase from its process and health.</summary>
    private async Task ObserveAsync(DeploymentRecord d, ReplicaRecord r, CancellationToken ct)
    {
        if (r.Phase is ReplicaPhase.Pending or ReplicaPhase.Failed || stopper.IsStopping(r.ReplicaId))
        {
            return;
        }
        var handle = runtime.Find(r.ReplicaId);
        if (r.Phase == ReplicaPhase.Stopping)
        {
            // A stop that an earlier control-plane process began: finish it.
            await stopper.BeginAsync(r, handle, "finishing an interrupted stop", ct: ct);
            return;
        }
        var now = clock.UtcNow;
        var exit = handle is null ? new ReplicaExit(null, "the process is no longer tracked") : runtime.GetExit(handle);
        if (exit is not null || handle is null)
        {
            exit ??= new ReplicaExit(null, null);
            if (handle is not null)
            {
                runtime.Forget(handle);
            }
            var line = exit.LastError;
            await store.UpsertReplicaAsync(r with
            {
                Phase = ReplicaPhase.Failed,
                FailureCount = r.Phase == ReplicaPhase.Ready ? 1 : r.FailureCount + 1,
                LastError = line ?? $"exited with {exit.Describe()}",
            }, ct);
            await Event(r, "ReplicaExited", $"replica {r.ReplicaId} exited with {exit.Describe()}{(line is null ? "" : $": {line}")}", ct);
            return;
        }
        var probe = await runtime.ProbeAsync(handle, ct);
        var health = probe.Health;
        if (health == ReplicaHealth.Failed)
        {
            var why = probe.Error ?? "the model failed to load";
            await store.UpsertReplicaAsync(r with
            {
                Phase = ReplicaPhase.Failed,
                FailureCount = r.Phase == ReplicaPhase.Ready ? 1 : r.FailureCount + 1,
                LastError = why,
            }, ct);
            await Event(r, "ReplicaFailed", $"replica {r.ReplicaId} failed to load its model: {why}", ct);
            await stopper.BeginAsync(r, handle, why, keepRecord: true, ct);
            return;
        }
        if (health == ReplicaHealth.Ready && r.Phase != ReplicaPhase.Ready)
        {
            // READY promises every deployed addon: load them before the gateway may route to it.
            if (d.DeleteTime is null)
            {
                await addons.PrepareReplicaAsync(d, handle, ct);
            }
            await store.UpsertReplicaAsync(r with { Phase = ReplicaPhase.Ready, ReadyTime = now, FailureCount = 0, LastError = null }, ct);
            await Event(r, "ReplicaReady", $"replica {r.ReplicaId} ready on port {handle.Port}", ct);
        }
        else if (health != ReplicaHealth.Ready && r.Phase == ReplicaPhase.Ready)
        {
            await store.UpsertReplicaAsync(r with { Phase = ReplicaPhase.Initializing }, ct);
            await Event(r, "ReplicaUnhealthy", $"replica {r.ReplicaId} stopped answering health checks ({health})", ct);
        }
        else if (health != ReplicaHealth.Ready && now - r.StartTime > options.StartTimeout)
        {
            var why = $"not ready within {GoDuration.Format(options.StartTimeout)}";
            await store.UpsertReplicaAsync(r with { Phase = ReplicaPhase.Failed, FailureCount = r.FailureCount + 1, LastError = why }, ct);
            await Event(r, "ReplicaTimedOut", $"replica {r.ReplicaId} {why}; stopping it", ct);
            await stopper.BeginAsync(r, handle, why, keepRecord: true, ct);
        }

    }

    /// <summary>
    /// Moves replicas of an older generation onto the current one when no change since their
    /// generation needed a restart (<see cref="DeploymentRecord.RestartGeneration"/>) and their
    /// process runs what the current spec asks for, and drops old pending or failed records. The
    /// rest stay on their generation: <see cref="ScaleAsync"/> starts new replicas beside them and
    /// stops them once those serve.
    /// </summary>
    private async Task RollForwardAsync(DeploymentRecord d, string? modelPath, CancellationToken ct)
    {
        foreach (var r in await store.ListReplicasAsync(d.Account, d.Id, ct))
        {
            if (r.Generation >= d.Generation || r.Phase == ReplicaPhase.Stopping || stopper.IsStopping(r.ReplicaId))
            {
                continue;
            }
            if (r.Phase is ReplicaPhase.Pending or ReplicaPhase.Failed)
            {
                // A spec change is a fresh start: its replicas begin with a clean failure count.
                await store.DeleteReplicaAsync(r.Account, r.DeploymentId, r.ReplicaId, ct);
                continue;
            }
            // The process check stays as a guard: a replica never claims a spec its process does not run.
            if (r.Generation >= d.RestartGeneration
                && runtime.Find(r.ReplicaId) is { } h && h.WorldSize == d.Spec.AcceleratorCount && h.Precision == d.Spec.Precision
                && SamePath(h.ModelPath, modelPath))
            {
                await store.UpsertReplicaAsync(r with { Generation = d.Generation }, ct);
            }
        }
    }

    /// <summary>Adds or removes replicas of the current generation to match the desired count.</summary>
    private async Task ScaleAsync(DeploymentRecord d, CancellationToken ct)
    {
        var all = await store.ListReplicasAsync(d.Account, d.Id, ct);
        // A failed replica whose process is still being stopped counts: it is restarted in place later.
        var current = all.Where(r => r.Generation >= d.Generation && r.Phase != ReplicaPhase.Stopping).ToList();
        var desired = d.DesiredReplicaCount;
        if (current.Count < desired)
        {
            for (var i = current.Count; i < desired; i++)
            {
                await store.UpsertReplicaAsync(new ReplicaRecord
                {
                    Account = d.Account,
                    DeploymentId = d.Id,
                    ReplicaId = NewReplicaId(),
                    Phase = ReplicaPhase.Pending,
                    Generation = d.Generation,
                    StartTime = clock.UtcNow,
                }, ct);
            }
            await events.AppendAsync(d.Account, d.Id, "Scaled", $"scaled to {desired} replica(s)", ct);
        }
        else if (current.Count > desired)
        {
            // Least useful first: failed, then waiting, then loading, then serving (newest first).
            var victims = current
                .OrderBy(r => r.Phase switch { ReplicaPhase.Failed => 0, ReplicaPhase.Pending => 1, ReplicaPhase.Initializing => 2, _ => 3 })
                .ThenByDescending(r => r.StartTime)
                .Take(current.Count - desired);
            foreach (var r in victims)
            {
                await stopper.BeginAsync(r, runtime.Find(r.ReplicaId), $"scaling to {desired} replica(s)", ct: ct);
            }
            await events.AppendAsync(d.Account, d.Id, "Scaled", $"scaled to {desired} replica(s)", ct);
        }
        // Replicas of an older generation that need a restart give way once the new ones serve.
        var readyCurrent = current.Count(r => r.Phase == ReplicaPhase.Ready);
        if (readyCurrent >= Math.Min(desired, current.Count) && (readyCurrent > 0 || desired == 0))
        {
            foreach (var r in all.Where(r => r.Generation < d.Generation && r.Phase != ReplicaPhase.Stopping))
            {
                await stopper.BeginAsync(r, runtime.Find(r.ReplicaId), $"replaced by generation {d.Generation}", ct: ct);
            }
        }
    }

    /// <summary>
    /// Starts pending replicas and restarts failed ones whose backoff has passed, as far as free
    /// slots allow; returns why a replica could not start for lack of slots, or null.
    /// </summary>
    private async Task<string?> ScheduleAsync(DeploymentRecord d, string modelPath, CancellationToken ct)
    {
        var now = clock.UtcNow;
        var worldSize = d.Spec.AcceleratorCount;
        var candidates = (await store.ListReplicasAsync(d.Account, d.Id, ct))
            .Where(r => r.Generation >= d.Generation && !stopper.IsStopping(r.ReplicaId))
            .Where(r => r.Phase == ReplicaPhase.Pending
                || (r.Phase == ReplicaPhase.Failed && r.FailureCount < options.MaxReplicaFailures
                    && runtime.Find(r.ReplicaId) is null && now >= r.UpdateTime + Backoff(r.FailureCount)));
        foreach (var r in candidates)
        {
            var inventory = runtime.Inventory;
            var free = inventory.Slots - runtime.List().Sum(h => h.WorldSize);
            if (free < worldSize)
            {
                var unit = inventory.Kind == Kiln.Runtime.SlotKind.Gpu ? "GPU" : "CPU slot";
                return $"insufficient accelerators: needs {worldSize} {unit}(s) per replica, {Math.Max(free, 0)} of {inventory.Slots} free";
            }
            var launch = new ReplicaLaunch(new ReplicaRef(d.Account, d.Id, r.ReplicaId), modelPath, d.Spec.BaseModel, worldSize, d.Spec.Precision);
            try
            {
                var h = await runtime.StartAsync(launch, ct);
                await store.UpsertReplicaAsync(r with
                {
                    Phase = ReplicaPhase.Initializing,
                    Pid = h.Pid,
                    Port = h.Port,
                    Host = h.Host,
                    StartTime = clock.UtcNow,
                    ReadyTime = null,
                    Generation = d.Generation,
                }, ct);
                await Event(r, "ReplicaStarted", $"replica {r.ReplicaId} started on port {h.Port} (pid {h.Pid})", ct);
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or IOException)
            {
                await store.UpsertReplicaAsync(r with { Phase = ReplicaPhase.Failed, FailureCount = r.FailureCount + 1, LastError = e.Message }, ct);
                await Event(r, "ReplicaStartFailed", $"replica {r.ReplicaId} could not start: {e.Message}", ct);
            }
        }
        return null;
    }

    /// <summary>Writes the assessed state and status when they changed.</summary>
    private async Task AssessAsync(DeploymentRecord d, string? fatal, string? capacity, CancellationToken ct)
    {
        var replicas = await store.ListReplicasAsync(d.Account, d.Id, ct);
        var assessment = DeploymentLifecycle.Assess(new DeploymentObservation
        {
            CurrentState = d.State,
            DeleteRequested = d.DeleteTime is not null || d.State == DeploymentState.Deleting,
            Generation = d.Generation,
            ObservedGeneration = d.ObservedGeneration,
            DesiredReplicaCount = d.DesiredReplicaCount,
            Replicas = [.. replicas.Select(r => new ReplicaObservation(r.ReplicaId, r.Phase, r.Generation, r.FailureCount, r.LastError))],
            FatalError = fatal,
        }, options.MaxReplicaFailures);
        var code = assessment.Code;
        var message = assessment.Message;
        if (capacity is not null && assessment.State is DeploymentState.Creating or DeploymentState.Ready or DeploymentState.Updating)
        {
            code = StatusCode.ResourceExhausted;
            message = $"{capacity} ({message})";
        }
        if (assessment.State.IsGoingAway() && ReapReason.Of(d.Status.Message) is { } why)
        {
            // The reaper said why it deleted the deployment; that stays the first thing its status says.
            code = d.Status.Code;
            message = $"{why}; {message}";
        }
        if (assessment.State == d.State && code == d.Status.Code && message == d.Status.Message && assessment.ObservedGeneration == d.ObservedGeneration)
        {
            return;
        }
        try
        {
            await store.UpdateDeploymentStatusAsync(d.Account, d.Id,
                new DeploymentStatusUpdate(assessment.State, new DeploymentStatus(code, message), assessment.ObservedGeneration), d.Version, ct);
        }
        catch (KilnError e) when (e.Code is StatusCode.FailedPrecondition or StatusCode.Aborted)
        {
            return; // deleted or changed meanwhile (the assessment read an older row); the next pass sees it
        }
        if (assessment.State != d.State || code != d.Status.Code)
        {
            var text = assessment.State == d.State ? message : $"{d.State.ToWireName()} -> {assessment.State.ToWireName()}: {message}";
            await events.AppendAsync(d.Account, d.Id, assessment.State == DeploymentState.Deleted ? "Deleted" : "StateChanged", text, ct);
        }
    }

    private async Task<(string? Path, string? Problem)> ModelFileAsync(DeploymentRecord d, CancellationToken ct)
    {
        if (!ModelName.TryParse(d.Spec.BaseModel, out var name, out var error))
        {
            return (null, error);
        }
        var model = await store.GetModelAsync(name.Account, name.Model, ct);
        if (model is null)
        {
            return (null, $"base model {name} does not exist");
        }
        if (model.Kind.IsAddon())
        {
            try
            {
                return (await MergedAddon.EnsureAsync(store, dir, model, ct), null);
            }
            catch (KilnError e)
            {
                return (null, e.Message);
            }
        }
        return File.Exists(model.FilePath) ? (model.FilePath, null) : (null, $"the file of base model {name} is missing: {model.FilePath}");
    }

    private TimeSpan Backoff(int failures)
    {
        var factor = Math.Pow(2, Math.Clamp(failures - 1, 0, 20));
        var delay = TimeSpan.FromTicks((long)Math.Min(options.RestartBackoff.Ticks * factor, options.MaxRestartBackoff.Ticks));
        return delay;
    }

    private Task Event(ReplicaRecord r, string type, string message, CancellationToken ct) =>
        events.AppendAsync(r.Account, r.DeploymentId, type, message, ct);

    private static bool SamePath(string a, string? b) =>
        b is not null && string.Equals(Path.GetFullPath(a), Path.GetFullPath(b), StringComparison.Ordinal);

    private static string NewReplicaId() => "r-" + ResourceNames.NewDeploymentId();
}
