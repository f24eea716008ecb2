using System.Collections.Concurrent;
using Kiln.Core.Deployments;
using Kiln.Core.Engines;
using Kiln.Core.Errors;
using Kiln.Core.Models;
using Kiln.Core.Names;
using Kiln.Core.Replicas;
using Kiln.Core.Time;
using Kiln.Runtime;
using Kiln.Runtime.Local;
using Kiln.Server.ControlPlane.Addons;
using Kiln.Server.ControlPlane.Distribution;
using Kiln.Store;

namespace Kiln.Server.ControlPlane.Controllers;

/// <summary>
/// One reconcile step for one deployment: given its replica records as the pass read them, look at
/// their processes, let <see cref="ReplicaPlanner"/> decide (observe, roll forward, scale, start what
/// fits in the free accelerator slots), carry the plan out, and write back the status
/// <see cref="DeploymentStatusRules"/> derives from the outcome. Level-triggered and idempotent: each
/// pass starts from what the store and the runtime say, so repeating it (or a restart between two
/// steps) is harmless.
/// </summary>
public sealed class DeploymentPass(
    IKilnStore store, DeploymentEvents events, IReplicaRuntime runtime, ReplicaStopper stopper, AddonSync addons, DataDirectory dir, ModelDelivery delivery,
    EngineCatalog engines, IClock clock, ReconcilerOptions options)
{
    // When each READY replica last answered a health probe; it is probed again once that is
    // older than the health-check interval (or at once when its process exits).
    private readonly ConcurrentDictionary<string, DateTimeOffset> _healthyAt = new(StringComparer.Ordinal);

    // Probes in a row a READY replica did not answer: one slow answer (a busy node) is not yet a
    // sick replica; the gateway meanwhile routes around a replica that really fails.
    private const int MissedProbesBeforeUnhealthy = 3;
    private readonly ConcurrentDictionary<string, int> _missed = new(StringComparer.Ordinal);

    // Replicas whose last probe found them loading (or not yet answering): between passes the
    // reconciler probes only these, often, so one that turns ready serves without waiting out the interval.
    private readonly ConcurrentDictionary<string, ReplicaHandle> _starting = new(StringComparer.Ordinal);

    /// <summary>The processes of replicas the last pass saw starting but not yet ready.</summary>
    public IReadOnlyList<ReplicaHandle> Starting => [.. _starting.Values];

    /// <summary>
    /// Reconciles <paramref name="d"/>, whose replica records the pass read as <paramref name="replicas"/>
    /// (by replica ID), as part of <paramref name="pass"/>; returns the IDs of the replicas it keeps.
    /// Deployments of one pass may run at once: they share only the pass's slots. <paramref name="anyAddons"/>:
    /// whether the pass's read of every deployed model found one on <paramref name="d"/>.
    /// </summary>
    public async Task<IReadOnlyList<string>> RunAsync(DeploymentRecord d, IReadOnlyList<ReplicaRecord> replicas, bool anyAddons, PassContext pass, CancellationToken ct)
    {
        var deleting = d.DeleteTime is not null || d.State == DeploymentState.Deleting;
        var records = replicas.ToDictionary(r => r.ReplicaId);
        var (model, fatal) = deleting ? (null, null) : await pass.OnceAsync(d.Spec.BaseModel, () => ModelFileAsync(d, ct));
        var modelPath = model?.ReplicaPath;
        var facts = new List<ReplicaFacts>();
        foreach (var r in records.Values)
        {
            facts.Add(await FactsAsync(d, r, modelPath, ct));
        }
        var input = new ReplicaPlanInput
        {
            Generation = d.Generation,
            RestartGeneration = d.RestartGeneration,
            DesiredReplicaCount = d.DesiredReplicaCount,
            DeleteRequested = deleting,
            FatalError = fatal,
            Replicas = facts,
            Now = clock.UtcNow,
        };
        var engine = engines.For(d.Spec.Engine);
        // An engine's readiness timeout replaces the server's start timeout (vLLM may compile for minutes).
        var limits = engine.ReadinessTimeout is { } readiness ? options.Plan with { StartTimeout = readiness } : options.Plan;
        var plan = pass.Claim(d.Spec.AcceleratorType,
            free => ReplicaPlanner.Plan(input with { Slots = Slots(d, free) }, limits, NewReplicaId),
            p => p.Actions.Count(a => a is ReplicaAction.Start) * d.Spec.AcceleratorCount);
        var failedStarts = new Dictionary<string, string>();
        var writes = new ReplicaWrites(events, records);
        foreach (var action in plan.Actions)
        {
            if (action is ReplicaAction.Start start)
            {
                // No process runs without a stored record naming it (adoption after a restart goes by them).
                if (writes.HoldsNewReplica)
                {
                    await writes.FlushAsync(ct);
                }
                if (await StartAsync(d, writes, records[start.ReplicaId], start.Generation, model!, engine, ct) is { } error)
                {
                    failedStarts[start.ReplicaId] = error;
                }
                continue;
            }
            await CarryOutAsync(d, records, writes, action, deleting, anyAddons, ct);
        }
        await writes.FlushAsync(ct);
        var outcome = plan.Outcome(failedStarts);
        if (!deleting)
        {
            await addons.SyncAsync(d, [.. outcome.Select(f => records[f.Id] with { Phase = f.Phase })], anyAddons, ct);
        }
        await WriteStatusAsync(d, deleting, outcome, fatal, plan.CapacityProblem, ct);
        return [.. outcome.Select(f => f.Id)];
    }

    /// <summary>Forgets the health of replicas no longer kept.</summary>
    public void Retain(IReadOnlySet<string> replicaIds)
    {
        foreach (var id in _healthyAt.Keys.Where(id => !replicaIds.Contains(id)))
        {
            _healthyAt.TryRemove(id, out _);
        }
        foreach (var id in _missed.Keys.Where(id => !replicaIds.Contains(id)))
        {
            _missed.TryRemove(id, out _);
        }
        foreach (var id in _starting.Keys.Where(id => !replicaIds.Contains(id)))
        {
            _starting.TryRemove(id, out _);
        }
    }

    /// <summary>What the planner needs of a replica: its record, and its process's exit or health where that matters.</summary>
    private async Task<ReplicaFacts> FactsAsync(DeploymentRecord d, ReplicaRecord r, string? modelPath, CancellationToken ct)
    {
        var handle = runtime.Find(r.ReplicaId);
        var facts = new ReplicaFacts
        {
            Id = r.ReplicaId,
            Phase = r.Phase,
            Generation = r.Generation,
            FailureCount = r.FailureCount,
            LastError = r.LastError,
            WaitReason = r.WaitReason,
            StartTime = r.StartTime,
            UpdateTime = r.UpdateTime,
            HasProcess = handle is not null,
            StopUnderWay = stopper.IsStopping(r.ReplicaId),
            // A replica never claims a spec its process does not run.
            RunsCurrentSpec = handle is not null && handle.WorldSize == d.Spec.AcceleratorCount && handle.Precision == d.Spec.Precision
                && SamePath(handle.ModelPath, modelPath),
        };
        return ReplicaPlanner.NeedsProbe(facts) ? facts with { Process = await ObserveAsync(r, handle, ct) } : facts;
    }

    private async Task<ProcessObservation> ObserveAsync(ReplicaRecord r, ReplicaHandle? handle, CancellationToken ct)
    {
        var observed = await ObserveProcessAsync(r, handle, ct);
        if (handle is not null && r.Phase == ReplicaPhase.Initializing && observed is ProcessObservation.Probed { Health: ProbeHealth.Loading or ProbeHealth.Downloading or ProbeHealth.Unreachable })
        {
            _starting[r.ReplicaId] = handle;
        }
        else
        {
            _starting.TryRemove(r.ReplicaId, out _);
        }
        return observed;
    }

    private async Task<ProcessObservation> ObserveProcessAsync(ReplicaRecord r, ReplicaHandle? handle, CancellationToken ct)
    {
        var status = handle is null ? ReplicaStatus.Ended(new ReplicaExit(null, "the process is no longer tracked")) : runtime.GetStatus(handle);
        if (status.Exit is { } exit || handle is null)
        {
            _healthyAt.TryRemove(r.ReplicaId, out _);
            exit = status.Exit ?? new ReplicaExit(null, null);
            return new ProcessObservation.Exited(exit.Describe(), exit.LastError);
        }
        if (status.WaitReason is { } reason)
        {
            _healthyAt.TryRemove(r.ReplicaId, out _);
            return new ProcessObservation.Waiting(reason);
        }
        var now = clock.UtcNow;
        if (r.Phase == ReplicaPhase.Ready && _healthyAt.TryGetValue(r.ReplicaId, out var at) && now - at < options.HealthCheckInterval)
        {
            return new ProcessObservation.Probed(ProbeHealth.Ready);
        }
        var probe = await runtime.ProbeAsync(handle, ct);
        if (probe.Health == ReplicaHealth.Ready)
        {
            _healthyAt[r.ReplicaId] = now;
            _missed.TryRemove(r.ReplicaId, out _);
        }
        else
        {
            _healthyAt.TryRemove(r.ReplicaId, out _);
            if (r.Phase == ReplicaPhase.Ready && probe.Health == ReplicaHealth.Unreachable
                && _missed.AddOrUpdate(r.ReplicaId, 1, (_, n) => n + 1) < MissedProbesBeforeUnhealthy)
            {
                return new ProcessObservation.Probed(ProbeHealth.Ready);
            }
            _missed.TryRemove(r.ReplicaId, out _);
        }
        var health = probe.Health switch
        {
            ReplicaHealth.Ready => ProbeHealth.Ready,
            ReplicaHealth.Failed => ProbeHealth.Failed,
            ReplicaHealth.Loading => ProbeHealth.Loading,
            ReplicaHealth.Downloading => ProbeHealth.Downloading,
            _ => ProbeHealth.Unreachable,
        };
        return new ProcessObservation.Probed(health, probe.Error, probe.Download);
    }

    private SlotFacts Slots(DeploymentRecord d, int free)
    {
        var slots = runtime.Slots(d.Spec.AcceleratorType, d.Spec.AcceleratorCount);
        // A cluster's scheduler queues what does not fit now; on one machine the pass shares its free slots.
        return slots.LargestNode is null ? slots with { Free = free } : slots;
    }

    /// <summary>Carries out one step other than a start, keeping <paramref name="records"/> as written.</summary>
    private async Task CarryOutAsync(
        DeploymentRecord d, Dictionary<string, ReplicaRecord> records, ReplicaWrites writes, ReplicaAction action, bool deleting, bool anyAddons, CancellationToken ct)
    {
        switch (action)
        {
            case ReplicaAction.Fail f:
                await FailAsync(records, writes, f, ct);
                break;
            // (A process gone since its probe is left as it is: the next pass sees it exited.)
            case ReplicaAction.MarkReady m when runtime.Find(m.ReplicaId) is { } handle:
                // READY promises every deployed addon: load them before the gateway may route to it.
                if (!deleting)
                {
                    await addons.PrepareReplicaAsync(d, handle, anyAddons, ct);
                }
                writes.Write(records[m.ReplicaId] with
                {
                    Phase = ReplicaPhase.Ready,
                    ReadyTime = clock.UtcNow,
                    FailureCount = 0,
                    LastError = null,
                    WaitReason = null,
                    // A cluster places the replica after its start: the gateway routes to where it ended up.
                    Host = handle.Host,
                    Port = handle.Port,
                });
                Event(writes, d, "ReplicaReady", $"replica {m.ReplicaId} ready at {handle.Describe()}");
                break;
            case ReplicaAction.MarkWaiting w:
                writes.Write(records[w.ReplicaId] with { Phase = ReplicaPhase.Pending, WaitReason = w.Reason });
                Event(writes, d, "ReplicaQueued", $"replica {w.ReplicaId} waits to be scheduled: {w.Reason}");
                break;
            case ReplicaAction.MarkRunning r when runtime.Find(r.ReplicaId) is { } handle:
                writes.Write(records[r.ReplicaId] with
                {
                    Phase = ReplicaPhase.Initializing,
                    WaitReason = null,
                    StartTime = clock.UtcNow,
                    Host = handle.HasEndpoint ? handle.Host : null,
                    Port = handle.HasEndpoint ? handle.Port : null,
                });
                Event(writes, d, "ReplicaScheduled", $"replica {r.ReplicaId} was scheduled and is starting ({handle.Describe()})");
                break;
            case ReplicaAction.MarkUnhealthy u:
                writes.Write(records[u.ReplicaId] with { Phase = ReplicaPhase.Initializing });
                Event(writes, d, "ReplicaUnhealthy", $"replica {u.ReplicaId} stopped answering health checks ({u.Health})");
                break;
            case ReplicaAction.MarkDownloading m:
                writes.Write(records[m.ReplicaId] with { Phase = ReplicaPhase.Downloading });
                Event(writes, d, "ReplicaDownloading", $"replica {m.ReplicaId} is downloading its model");
                break;
            case ReplicaAction.MarkDownloaded m:
                writes.Write(records[m.ReplicaId] with { Phase = ReplicaPhase.Initializing, StartTime = clock.UtcNow });
                Event(writes, d, "ReplicaDownloaded", $"replica {m.ReplicaId} has its model and is loading it");
                break;
            case ReplicaAction.Stop s:
                await writes.FlushAsync(ct);
                await stopper.BeginAsync(records[s.ReplicaId], runtime.Find(s.ReplicaId), s.Reason, ct: ct);
                break;
            case ReplicaAction.Remove x:
                await writes.FlushAsync(ct);
                await store.DeleteReplicaAsync(d.Account, d.Id, x.ReplicaId, ct);
                break;
            case ReplicaAction.MoveForward m:
                writes.Write(records[m.ReplicaId] with { Generation = m.Generation });
                break;
            case ReplicaAction.Create c:
                writes.Write(new ReplicaRecord
                {
                    Account = d.Account,
                    DeploymentId = d.Id,
                    ReplicaId = c.ReplicaId,
                    Phase = ReplicaPhase.Pending,
                    Generation = c.Generation,
                    StartTime = clock.UtcNow,
                }, isNew: true);
                break;
            case ReplicaAction.Scaled s:
                Event(writes, d, "Scaled", $"scaled to {s.DesiredReplicaCount} replica(s)");
                break;
        }
    }

    private async Task FailAsync(Dictionary<string, ReplicaRecord> records, ReplicaWrites writes, ReplicaAction.Fail f, CancellationToken ct)
    {
        var r = records[f.ReplicaId];
        var handle = runtime.Find(f.ReplicaId);
        if (handle?.Command is { } command && f.EventType == "ReplicaTimedOut")
        {
            // Another engine's log is its own: its last lines say why it never answered.
            var detail = $" (engine command: {command}; last log lines: {LogTail.LastLines(handle.LogPath) ?? "none"})";
            f = f with { LastError = f.LastError + detail, EventMessage = f.EventMessage + detail };
        }
        if (f.ForgetProcess && handle is not null)
        {
            runtime.Forget(handle);
        }
        writes.Write(r with { Phase = ReplicaPhase.Failed, FailureCount = f.FailureCount, LastError = f.LastError });
        writes.Event(r.Account, r.DeploymentId, f.EventType, f.EventMessage);
        if (f.StopProcess)
        {
            await writes.FlushAsync(ct);
            await stopper.BeginAsync(records[r.ReplicaId], handle, f.LastError, keepRecord: true, ct);
        }
    }

    private async Task<string?> StartAsync(
        DeploymentRecord d, ReplicaWrites writes, ReplicaRecord r, long generation, DeliveredModel model, EngineProfile engine, CancellationToken ct)
    {
        var replica = new ReplicaRef(d.Account, d.Id, r.ReplicaId);
        var launch = new ReplicaLaunch(replica, model.ReplicaPath, d.Spec.BaseModel, d.Spec.AcceleratorCount, d.Spec.Precision, delivery.DownloadFor(model, replica))
        {
            AcceleratorType = d.Spec.AcceleratorType,
            Engine = EngineLaunch.For(engine, d.Spec.EnableAddons, d.Spec.EngineArgs, d.Spec.MaxBatchSize, d.Spec.MaxContextLength),
            MaxBatchSize = d.Spec.MaxBatchSize,
            ContextSize = d.Spec.MaxContextLength,
            PrefixCacheMb = d.Spec.PrefixCacheMb,
            DraftModelPath = await DraftModelFileAsync(d, ct),
            DraftTokens = d.Spec.DraftTokenCount,
            NgramSpeculation = d.Spec.NgramSpeculationLength,
        };
        try
        {
            var h = await runtime.StartAsync(launch, ct);
            writes.Write(r with
            {
                Phase = ReplicaPhase.Initializing,
                RuntimeHandle = h.Handle.ToString(),
                Port = h.HasEndpoint ? h.Port : null,
                Host = h.HasEndpoint ? h.Host : null,
                Devices = h.Devices,
                WaitReason = null,
                StartTime = clock.UtcNow,
                ReadyTime = null,
                Generation = generation,
            });
            var devices = h.Devices.Count > 0 ? $" on {d.Spec.AcceleratorType.ToWireName()} {string.Join(",", h.Devices)}" : "";
            var how = h.Command is { } command ? $" with engine {engine.Name}: {command}" : "";
            Event(writes, d, "ReplicaStarted", $"replica {r.ReplicaId} started: {h.Describe()}{devices}{how}");
            _starting[r.ReplicaId] = h;
            return null;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or IOException)
        {
            writes.Write(r with { Phase = ReplicaPhase.Failed, FailureCount = r.FailureCount + 1, LastError = e.Message });
            Event(writes, d, "ReplicaStartFailed", $"replica {r.ReplicaId} could not start: {e.Message}");
            return e.Message;
        }
    }

    /// <summary>Writes the status the outcome calls for, over the version the pass read.</summary>
    private async Task WriteStatusAsync(DeploymentRecord d, bool deleting, IReadOnlyList<ReplicaFacts> replicas, string? fatal, string? capacity, CancellationToken ct)
    {
        var change = DeploymentStatusRules.Decide(new DeploymentObservation
        {
            CurrentState = d.State,
            CurrentCode = d.Status.Code,
            CurrentMessage = d.Status.Message,
            DeleteRequested = deleting,
            DeletionReason = d.DeletionReason,
            Generation = d.Generation,
            ObservedGeneration = d.ObservedGeneration,
            DesiredReplicaCount = d.DesiredReplicaCount,
            Replicas = [.. replicas.Select(r => new ReplicaObservation(r.Id, r.Phase, r.Generation, r.FailureCount, r.LastError, r.Download, r.WaitReason))],
            FatalError = fatal,
            CapacityProblem = capacity,
        }, options.MaxReplicaFailures);
        if (change is null)
        {
            return;
        }
        try
        {
            await store.UpdateDeploymentStatusAsync(d.Account, d.Id,
                new DeploymentStatusUpdate(change.State, new DeploymentStatus(change.Code, change.Message), change.ObservedGeneration), d.Version, ct);
        }
        catch (KilnError e) when (e.Code is StatusCode.FailedPrecondition or StatusCode.Aborted)
        {
            return; // deleted or changed meanwhile (the plan read an older row); the next pass sees it
        }
        if (change.Event is { } happened)
        {
            await events.AppendAsync(d.Account, d.Id, happened.Type, happened.Message, ct);
        }
    }

    /// <summary>
    /// The file the replicas load, or why there is none. This pass alone writes a single addon's
    /// merged model (<see cref="MergedAddon"/>): the file is a local cache of what the store says,
    /// so whichever control plane starts the replicas makes it where they run, after a restart or
    /// on a fresh disk too, and once it exists this is a file check.
    /// </summary>
    private async Task<(DeliveredModel? Model, string? Problem)> ModelFileAsync(DeploymentRecord d, CancellationToken ct)
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
        string path;
        if (model.Kind.IsAddon())
        {
            try
            {
                path = await MergedAddon.EnsureAsync(store, dir, model, ct);
            }
            catch (KilnError e)
            {
                return (null, e.Message);
            }
        }
        else if (model.Format == ModelFormat.HfSafetensors)
        {
            if (!Directory.Exists(model.FilePath))
            {
                return (null, $"the folder of base model {name} is missing: {model.FilePath}");
            }
            if (!delivery.InPlace)
            {
                return (null, $"base model {name} is a Hugging Face folder, which replicas cannot download yet: serve it from a shared path (--model-distribution shared)");
            }
            path = model.FilePath;
        }
        else if (File.Exists(model.FilePath))
        {
            path = model.FilePath;
        }
        else
        {
            return (null, $"the file of base model {name} is missing: {model.FilePath}");
        }
        return (await delivery.PlanAsync(model, path, ct), null);
    }

    /// <summary>
    /// The draft model's file, opened where the store keeps it (on a shared file system for a
    /// cluster); a draft model gone since the spec was written leaves a path the replica reports missing.
    /// </summary>
    private async Task<string?> DraftModelFileAsync(DeploymentRecord d, CancellationToken ct)
    {
        if (d.Spec.DraftModel is not { } draft || !ModelName.TryParse(draft, out var name, out _))
        {
            return null;
        }
        return (await store.GetModelAsync(name.Account, name.Model, ct))?.FilePath ?? draft;
    }

    private static void Event(ReplicaWrites writes, DeploymentRecord d, string type, string message) =>
        writes.Event(d.Account, d.Id, type, message);

    private static bool SamePath(string a, string? b) =>
        b is not null && string.Equals(Path.GetFullPath(a), Path.GetFullPath(b), StringComparison.Ordinal);

    private static string NewReplicaId() => "r-" + ResourceNames.NewDeploymentId();
}
