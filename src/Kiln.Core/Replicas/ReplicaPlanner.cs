using Kiln.Core.Deployments;
using Kiln.Core.Time;

namespace Kiln.Core.Replicas;

/// <summary>
/// The reconciler's decisions for one deployment's replicas, as a pure function of one snapshot:
/// what its processes did since the last pass, which replicas to remove, move forward, start and
/// stop so that the current generation has the desired number, and which older ones give way.
/// </summary>
/// <remarks>
/// The steps build on each other in this order, each seeing what the earlier ones decided:
/// <list type="number">
/// <item>Observe: an exited process, a model that failed to load or a start past its timeout makes
/// the replica FAILED; a ready probe makes it READY, a READY one that stops answering INITIALIZING;
/// a STOPPING record (a stop an earlier control-plane process began) is stopped again.</item>
/// <item>After a delete request, every replica stops and nothing else happens.</item>
/// <item>Roll forward: a replica of an older generation moves onto the current one when no change
/// since needed a restart and its process runs the current spec; older pending or failed records go.</item>
/// <item>Scale: current-generation replicas are created or stopped (least useful first: failed,
/// pending, initializing, then the newest serving) to match the desired count; older ones that
/// need replacing stop once the current ones serve.</item>
/// <item>Schedule: pending replicas start, and failed ones whose backoff has passed restart (up to
/// <see cref="ReplicaPlanOptions.MaxReplicaFailures"/> failures in a row), while slots are free.</item>
/// </list>
/// </remarks>
public static class ReplicaPlanner
{
    /// <summary>
    /// True for the replicas whose process a pass must look at (exit and health) before planning.
    /// A PENDING replica with a process waits in a cluster scheduler's queue and is looked at too.
    /// </summary>
    public static bool NeedsProbe(ReplicaFacts r) =>
        (r.Phase is ReplicaPhase.Initializing or ReplicaPhase.Downloading or ReplicaPhase.Ready || (r.Phase == ReplicaPhase.Pending && r.HasProcess))
        && !r.StopUnderWay;

    /// <summary>Plans one pass; <paramref name="newReplicaId"/> names each replica it creates.</summary>
    public static ReplicaPlan Plan(ReplicaPlanInput input, ReplicaPlanOptions options, Func<string> newReplicaId)
    {
        var work = new Work(input);
        foreach (var id in work.Ids())
        {
            Observe(work, work[id], options);
        }
        if (input.DeleteRequested)
        {
            foreach (var id in work.Ids())
            {
                work.Stop(id, "the deployment is being deleted");
            }
            return work.Result(null);
        }
        RollForward(work);
        Scale(work, newReplicaId);
        var capacity = input.FatalError is null ? Schedule(work, options) : null;
        return work.Result(capacity);
    }

    private static void Observe(Work work, ReplicaFacts r, ReplicaPlanOptions options)
    {
        if (r.Phase == ReplicaPhase.Stopping && !r.StopUnderWay)
        {
            work.Stop(r.Id, "finishing an interrupted stop");
            return;
        }
        if (!NeedsProbe(r))
        {
            return;
        }
        // A replica that had served starts counting failures afresh: it crashed, it did not fail to start.
        var failures = r.Phase == ReplicaPhase.Ready ? 1 : r.FailureCount + 1;
        switch (r.Process)
        {
            case ProcessObservation.Exited e:
                var tail = e.LastLine is null ? "" : $": {e.LastLine}";
                work.Fail(r, failures, e.LastLine ?? $"exited with {e.How}", "ReplicaExited",
                    $"replica {r.Id} exited with {e.How}{tail}", stop: false);
                break;
            case ProcessObservation.Probed { Health: ProbeHealth.Failed } p:
                var why = p.Error ?? "the model failed to load";
                work.Fail(r, failures, why, "ReplicaFailed", $"replica {r.Id} failed to load its model: {why}", stop: true);
                break;
            case ProcessObservation.Waiting w:
                // Queued by the cluster's scheduler: not late and not failed, however long it waits.
                if (r.Phase != ReplicaPhase.Pending || r.WaitReason != w.Reason)
                {
                    work.Apply(new ReplicaAction.MarkWaiting(r.Id, w.Reason), r with { Phase = ReplicaPhase.Pending, WaitReason = w.Reason });
                }
                break;
            case ProcessObservation.Probed { Health: not ProbeHealth.Ready and not ProbeHealth.Failed } p when r.Phase == ReplicaPhase.Pending:
                // Scheduled at last: its start timeout counts from now, not from when it was queued.
                var running = r with { Phase = ReplicaPhase.Initializing, WaitReason = null, StartTime = work.Now };
                work.Apply(new ReplicaAction.MarkRunning(r.Id), running);
                if (p.Health == ProbeHealth.Downloading)
                {
                    work.Apply(new ReplicaAction.MarkDownloading(r.Id), running with { Phase = ReplicaPhase.Downloading, Download = p.Download });
                }
                break;
            case ProcessObservation.Probed { Health: ProbeHealth.Ready } when r.Phase != ReplicaPhase.Ready:
                work.Apply(new ReplicaAction.MarkReady(r.Id), r with { Phase = ReplicaPhase.Ready, FailureCount = 0, LastError = null, WaitReason = null });
                break;
            case ProcessObservation.Probed { Health: not ProbeHealth.Ready } p when r.Phase == ReplicaPhase.Ready:
                work.Apply(new ReplicaAction.MarkUnhealthy(r.Id, p.Health), r with { Phase = ReplicaPhase.Initializing });
                break;
            // A download makes progress at the network's pace; the start timeout waits for the load.
            case ProcessObservation.Probed { Health: ProbeHealth.Downloading } p when r.Phase == ReplicaPhase.Downloading:
                work.Keep(r with { Download = p.Download });
                break;
            case ProcessObservation.Probed { Health: ProbeHealth.Downloading } p:
                work.Apply(new ReplicaAction.MarkDownloading(r.Id), r with { Phase = ReplicaPhase.Downloading, Download = p.Download });
                break;
            case ProcessObservation.Probed when r.Phase == ReplicaPhase.Downloading:
                work.Apply(new ReplicaAction.MarkDownloaded(r.Id), r with { Phase = ReplicaPhase.Initializing, StartTime = work.Now });
                break;
            case ProcessObservation.Probed { Health: not ProbeHealth.Ready } when work.Now - r.StartTime > options.StartTimeout:
                var late = $"not ready within {GoDuration.Format(options.StartTimeout)}";
                work.Fail(r, r.FailureCount + 1, late, "ReplicaTimedOut", $"replica {r.Id} {late}; stopping it", stop: true);
                break;
        }
    }

    private static void RollForward(Work work)
    {
        foreach (var id in work.Ids())
        {
            var r = work[id];
            if (r.Generation >= work.Generation || r.Phase == ReplicaPhase.Stopping || r.StopUnderWay)
            {
                continue;
            }
            if (r.Phase == ReplicaPhase.Pending && r.HasProcess)
            {
                // Still queued: nothing runs yet, so nothing is lost by replacing it.
                work.Stop(id, $"replaced by generation {work.Generation}");
            }
            else if (r.Phase is ReplicaPhase.Pending or ReplicaPhase.Failed)
            {
                // A spec change is a fresh start: its replicas begin with a clean failure count.
                work.Remove(id);
            }
            else if (r.Generation >= work.Input.RestartGeneration && r.HasProcess && r.RunsCurrentSpec)
            {
                work.Apply(new ReplicaAction.MoveForward(id, work.Generation), r with { Generation = work.Generation });
            }
        }
    }

    private static void Scale(Work work, Func<string> newReplicaId)
    {
        var all = work.Ids().Select(id => work[id]).ToList();
        // A failed replica whose process is still being stopped counts: it is restarted in place later.
        var current = all.Where(r => r.Generation >= work.Generation && r.Phase != ReplicaPhase.Stopping).ToList();
        var desired = work.Input.DesiredReplicaCount;
        if (current.Count < desired)
        {
            for (var i = current.Count; i < desired; i++)
            {
                var id = newReplicaId();
                work.Add(new ReplicaAction.Create(id, work.Generation), new ReplicaFacts
                {
                    Id = id,
                    Phase = ReplicaPhase.Pending,
                    Generation = work.Generation,
                    StartTime = work.Now,
                    UpdateTime = work.Now,
                });
            }
            work.Note(new ReplicaAction.Scaled(desired));
        }
        else if (current.Count > desired)
        {
            var victims = current
                .OrderBy(r => r.Phase switch { ReplicaPhase.Failed => 0, ReplicaPhase.Pending => 1, ReplicaPhase.Downloading or ReplicaPhase.Initializing => 2, _ => 3 })
                .ThenByDescending(r => r.StartTime)
                .Take(current.Count - desired);
            foreach (var r in victims)
            {
                work.Stop(r.Id, $"scaling to {desired} replica(s)");
            }
            work.Note(new ReplicaAction.Scaled(desired));
        }
        // Replicas of an older generation that need a restart give way once the new ones serve.
        var readyCurrent = current.Count(r => r.Phase == ReplicaPhase.Ready);
        if (readyCurrent >= Math.Min(desired, current.Count) && (readyCurrent > 0 || desired == 0))
        {
            foreach (var r in all.Where(r => r.Generation < work.Generation && r.Phase != ReplicaPhase.Stopping))
            {
                work.Stop(r.Id, $"replaced by generation {work.Generation}");
            }
        }
    }

    private static string? Schedule(Work work, ReplicaPlanOptions options)
    {
        var slots = work.Input.Slots;
        var free = slots.Free;
        var candidates = work.Ids().Select(id => work[id])
            .Where(r => r.Generation >= work.Generation && !r.StopUnderWay)
            .Where(r => (r.Phase == ReplicaPhase.Pending && !r.HasProcess)
                || (r.Phase == ReplicaPhase.Failed && r.FailureCount < options.MaxReplicaFailures
                    && !r.HasProcess && work.Now >= r.UpdateTime + options.Backoff(r.FailureCount)))
            .ToList();
        if (candidates.Count > 0 && slots.LargestNode is { } largest && slots.PerReplica > largest)
        {
            return $"insufficient accelerators: needs {slots.PerReplica} {slots.Unit}(s) per replica, and no node of the cluster has more than {largest}";
        }
        if (candidates.Count > 0 && slots.LargestNode is null && slots.PerReplica > slots.Total)
        {
            // The inventory shrank (or changed type) since the spec was accepted: no replica fits until it grows back.
            return $"insufficient accelerators: needs {slots.PerReplica} {slots.Unit}(s) per replica, and the node holds {slots.Total}";
        }
        foreach (var r in candidates)
        {
            if (free < slots.PerReplica)
            {
                return $"insufficient accelerators: needs {slots.PerReplica} {slots.Unit}(s) per replica, {Math.Max(free, 0)} of {slots.Total} free";
            }
            free -= slots.PerReplica;
            work.Apply(new ReplicaAction.Start(r.Id, work.Generation), r with
            {
                Phase = ReplicaPhase.Initializing,
                Generation = work.Generation,
                StartTime = work.Now,
                HasProcess = true,
                RunsCurrentSpec = true,
                WaitReason = null,
            });
        }
        return null;
    }

    /// <summary>The replicas as decided so far, in the snapshot's order (new ones last), and the steps that got them there.</summary>
    private sealed class Work(ReplicaPlanInput input)
    {
        private readonly List<ReplicaAction> _actions = [];
        private readonly List<string> _order = [.. input.Replicas.Select(r => r.Id)];
        private readonly Dictionary<string, ReplicaFacts> _replicas = input.Replicas.ToDictionary(r => r.Id);

        public ReplicaPlanInput Input => input;
        public long Generation => input.Generation;
        public DateTimeOffset Now => input.Now;

        public ReplicaFacts this[string id] => _replicas[id];

        /// <summary>The IDs of the replicas that still exist, as a copy, so steps may remove them meanwhile.</summary>
        public List<string> Ids() => [.. _order.Where(_replicas.ContainsKey)];

        public void Apply(ReplicaAction action, ReplicaFacts after)
        {
            _actions.Add(action);
            _replicas[after.Id] = after with { UpdateTime = Now };
        }

        /// <summary>Updates what is known of a replica without a step to carry out (its record stays as written).</summary>
        public void Keep(ReplicaFacts r) => _replicas[r.Id] = r;

        public void Add(ReplicaAction action, ReplicaFacts created)
        {
            _order.Add(created.Id);
            Apply(action, created);
        }

        public void Note(ReplicaAction action) => _actions.Add(action);

        public void Remove(string id)
        {
            _actions.Add(new ReplicaAction.Remove(id));
            _replicas.Remove(id);
        }

        public void Fail(ReplicaFacts r, int failures, string error, string eventType, string eventMessage, bool stop) =>
            Apply(new ReplicaAction.Fail(r.Id, failures, error, eventType, eventMessage, stop, ForgetProcess: !stop && r.HasProcess),
                r with
                {
                    Phase = ReplicaPhase.Failed,
                    FailureCount = failures,
                    LastError = error,
                    HasProcess = stop && r.HasProcess,
                    StopUnderWay = stop && r.HasProcess,
                });

        /// <summary>
        /// Stops a replica unless a stop is already under way: one without a process loses its
        /// record at once, one with a process is STOPPING until the process is gone.
        /// </summary>
        public void Stop(string id, string reason)
        {
            var r = _replicas[id];
            if (r.StopUnderWay)
            {
                return;
            }
            _actions.Add(new ReplicaAction.Stop(id, reason));
            if (r.HasProcess)
            {
                _replicas[id] = r with { Phase = ReplicaPhase.Stopping, StopUnderWay = true, UpdateTime = Now };
            }
            else
            {
                _replicas.Remove(id);
            }
        }

        public ReplicaPlan Result(string? capacity) => new([.. _actions], [.. Ids().Select(id => _replicas[id])], capacity);
    }
}
