using System.Collections.Concurrent;
using Kiln.Core.Accelerators;
using Kiln.Core.Deployments;
using Kiln.Core.Replicas;
using Kiln.Runtime.Local;

namespace Kiln.Runtime.Slurm;

/// <summary>
/// Replicas as Slurm batch jobs: one job per replica, placed by Slurm's scheduler on a node of the
/// configured partition, reached at that node's address and the port the replica picked.
/// </summary>
/// <remarks>
/// <para>A job runs <c>exec kiln replica --port 0 --endpoint-file ...</c> (see
/// <see cref="SbatchArguments"/>); the replica writes <c>host:port</c> into a file in
/// <see cref="SlurmOptions.RunDir"/>, which every node and the server must share, and the runtime
/// reads it once the job runs. The job's output is the replica's log, in the same folder.</para>
/// <para>One <c>squeue</c> per reconcile pass (<see cref="RefreshAsync"/>) tells every job's state;
/// <see cref="SlurmJobStates"/> maps it onto the replica. When Slurm does not answer (slurmctld
/// restarting), the last view stays and the replicas' health probes carry on: nothing is written
/// off for an unreachable controller. Jobs are found again by their name
/// (<see cref="SlurmJobName"/>), which carries this installation's prefix; a job of this
/// installation that no replica record wants is cancelled by the reconciler as a stray.</para>
/// </remarks>
public sealed class SlurmRuntime : IReplicaRuntime, IDisposable
{
    private readonly SlurmOptions _options;
    private readonly ReplicaCommand _command;
    private readonly SlurmCommands _slurm;
    private readonly HealthProbe _probe = new();
    private readonly ConcurrentDictionary<string, Tracked> _replicas = new();
    private readonly Lock _gate = new();
    private IReadOnlyDictionary<string, SlurmNode> _nodes = new Dictionary<string, SlurmNode>();
    private IReadOnlyDictionary<string, SlurmJob> _ours = new Dictionary<string, SlurmJob>();
    private DateTime _nodesRead = DateTime.MinValue;

    private SlurmRuntime(SlurmOptions options, ReplicaCommand command, string jobPrefix)
    {
        _options = options;
        _command = command;
        JobPrefix = jobPrefix;
        _slurm = new SlurmCommands(options.CommandTimeout, options.BinDir);
    }

    /// <summary>The prefix of this installation's job names.</summary>
    public string JobPrefix { get; }

    /// <summary>Why the last <c>squeue</c> failed, or null when it answered.</summary>
    public string? LastError { get; private set; }

    /// <summary>
    /// Connects to the cluster: checks that Slurm's commands exist and slurmctld answers (reading the
    /// node inventory), and creates the run folder. Throws <see cref="SlurmException"/> saying what is wrong.
    /// </summary>
    public static async Task<SlurmRuntime> ConnectAsync(SlurmOptions options, ReplicaCommand command, CancellationToken ct = default)
    {
        Directory.CreateDirectory(options.RunDir);
        var runtime = new SlurmRuntime(options, command, JobPrefixes.ForRunDir(options.RunDir));
        await runtime.ReadNodesAsync(ct);
        if (runtime._nodes.Count == 0)
        {
            throw new SlurmException(options.Partition is { } p ? $"partition {p} has no nodes" : "the cluster has no nodes");
        }
        await runtime._slurm.RunAsync("squeue", SqueueFormat.Arguments, ct);
        return runtime;
    }

    /// <inheritdoc />
    public string Describe()
    {
        var nodes = _nodes.Values.ToList();
        var where = _options.Partition is { } p ? $"Slurm partition {p}" : "Slurm";
        return $"{where}: {nodes.Count} node(s), {nodes.Sum(n => n.Gpus)} GPU(s), {nodes.Sum(n => n.Cpus)} CPU(s); jobs named {JobPrefix}.*";
    }

    /// <inheritdoc />
    /// <remarks>
    /// Slurm queues what does not fit now, so only a replica larger than every node is refused. The
    /// limit is a node's GPUs of the type (or of no known type) for GPU types and its CPUs for
    /// <c>CPU</c>; with no inventory read yet, nothing is refused.
    /// </remarks>
    public SlotFacts Slots(AcceleratorType type, int perReplica)
    {
        var unit = type.IsGpu() ? "GPU" : "CPU";
        var inventory = Accelerators();
        return inventory.Unknown
            ? new SlotFacts(int.MaxValue, 0, perReplica, unit)
            : SlotFacts.Cluster(inventory.Nodes.Max(n => n.Holds(type)), perReplica, unit);
    }

    /// <inheritdoc />
    /// <remarks>
    /// From <c>sinfo</c>'s gres and CPUs. Free counts leave out what Kiln's own jobs hold; Slurm may
    /// run other jobs too, and decides where each job goes (and sets its <c>CUDA_VISIBLE_DEVICES</c>).
    /// </remarks>
    public AcceleratorInventory Accelerators()
    {
        var running = _replicas.Values
            .Where(t => t.Type is not null && t.Job is { } j && j.Node.Length > 0 && SlurmJobStates.Phase(j.State) == SlurmJobPhase.Running)
            .Select(t => (Node: t.Job!.Node, Holding: new ReplicaHolding(t.Handle.Replica.Account, t.Handle.Replica.DeploymentId, t.Handle.ReplicaId, t.Handle.WorldSize, []), Type: t.Type!.Value))
            .ToList();
        var nodes = _nodes.Values.OrderBy(n => n.Name, StringComparer.Ordinal)
            .Select(n => SlurmInventory.Node(n, [.. running.Where(r => r.Node == n.Name).Select(r => (r.Holding, r.Type))]))
            .ToList();
        return new AcceleratorInventory("sinfo", nodes, LastError is { } e ? [$"Slurm: {e}"] : []);
    }

    /// <inheritdoc />
    public async Task RefreshAsync(CancellationToken ct = default)
    {
        IReadOnlyList<SlurmJob> jobs;
        try
        {
            jobs = SqueueFormat.Parse(await _slurm.RunAsync("squeue", SqueueFormat.Arguments, ct));
            LastError = null;
        }
        catch (SlurmException e)
        {
            LastError = e.Message;
            return;
        }
        var ours = jobs.Select(j => (Job: j, Replica: SlurmJobName.Parse(JobPrefix, j.Name))).Where(x => x.Replica is not null).ToList();
        var byId = ours.ToDictionary(x => x.Job.Id, x => x.Job);
        _ours = byId;
        if (DateTime.UtcNow - _nodesRead > _options.InventoryRefresh
            || ours.Any(x => x.Job.Node.Length > 0 && !_nodes.ContainsKey(x.Job.Node)))
        {
            await TryReadNodesAsync(ct);
        }
        lock (_gate)
        {
            foreach (var t in _replicas.Values)
            {
                t.Job = byId.GetValueOrDefault(t.JobId);
                t.Vanished = t.Job is null;
            }
            foreach (var (job, replica) in ours)
            {
                var phase = SlurmJobStates.Phase(job.State);
                var tracked = _replicas.GetValueOrDefault(replica!.ReplicaId);
                if (phase == SlurmJobPhase.Ended || tracked?.JobId == job.Id)
                {
                    continue;
                }
                if (tracked is not null && !tracked.Vanished && SlurmJobStates.Phase(tracked.Job?.State ?? "PENDING") != SlurmJobPhase.Ended)
                {
                    // Two live jobs for one replica (a submit whose answer was lost): keep the one this
                    // process submitted or adopted. Between two found in the queue, adoption decides.
                    if (tracked.Claimed)
                    {
                        _ = CancelQuietlyAsync(job.Id);
                    }
                    continue;
                }
                // A job of ours this process did not start: an earlier server's, adopted from squeue.
                _replicas[replica.ReplicaId] = new Tracked(HandleFor(replica, job), job);
            }
            foreach (var t in _replicas.Values.Where(t => t.Job is { } j && SlurmJobStates.Phase(j.State) == SlurmJobPhase.Running && !t.Handle.HasEndpoint))
            {
                if (Endpoint(t) is { } endpoint)
                {
                    t.Handle = t.Handle with { Host = endpoint.Host, Port = endpoint.Port };
                }
            }
        }
    }

    /// <inheritdoc />
    public async Task<ReplicaHandle> StartAsync(ReplicaLaunch launch, CancellationToken ct = default)
    {
        var dir = ReplicaDir(launch.Replica);
        Directory.CreateDirectory(dir);
        var name = SlurmJobName.Format(JobPrefix, launch.Replica);
        var log = LogPath(launch.Replica);
        var args = SbatchArguments.Build(_options, _command, launch, name, log, EndpointPrefix(launch.Replica), SlurmInventory.GresType(_nodes.Values, launch.AcceleratorType));
        var output = await _slurm.RunAsync("sbatch", args, SbatchArguments.Environment(launch), ct);
        var jobId = SbatchArguments.JobId(output) ?? throw new SlurmException($"sbatch answered without a job ID: {output.Trim()}");
        var handle = new ReplicaHandle(launch.Replica, RuntimeHandle.SlurmJob(jobId), "", 0, launch.WorldSize, launch.ModelPath, launch.Precision, log, Adopted: false)
        {
            HealthPath = launch.HealthPath,
            Command = launch.Engine is null ? null : EngineCommand.Describe(launch.EngineCommandLine(_options.ReplicaBindHost)),
        };
        // Until the next squeue, a fresh job counts as queued.
        _replicas[launch.Replica.ReplicaId] = new Tracked(handle, new SlurmJob(jobId, "PENDING", "None", "", name, null)) { Claimed = true, Type = launch.AcceleratorType };
        return handle;
    }

    /// <inheritdoc />
    /// <remarks>
    /// A running replica gets SIGTERM (<c>scancel --signal=TERM --full</c>, which does not end the
    /// job): it stops accepting, finishes its requests and exits, ending the job. Past
    /// <paramref name="drainTimeout"/>, or for a job still queued, <c>scancel</c> ends it.
    /// </remarks>
    public async Task StopAsync(ReplicaHandle replica, TimeSpan drainTimeout, CancellationToken ct = default)
    {
        var jobId = replica.Handle.SlurmJobId ?? throw new ArgumentException($"not a Slurm job: {replica.Handle}", nameof(replica));
        var state = await JobStateAsync(jobId, ct);
        if (state is { } s && SlurmJobStates.Phase(s) == SlurmJobPhase.Running)
        {
            await _slurm.RunAsync("scancel", ["--signal=TERM", "--full", jobId], ct);
            await WaitForEndAsync(jobId, drainTimeout, ct);
        }
        if (await JobStateAsync(jobId, ct) is { } left && SlurmJobStates.Phase(left) != SlurmJobPhase.Ended)
        {
            await _slurm.RunAsync("scancel", [jobId], ct);
            // Slurm sends SIGKILL after its KillWait: wait for that, but not forever.
            await WaitForEndAsync(jobId, TimeSpan.FromSeconds(60), ct);
        }
        Forget(replica);
    }

    /// <inheritdoc />
    public ReplicaHandle? Adopt(ReplicaRef replica, RuntimeHandle? hint)
    {
        var tracked = _replicas.GetValueOrDefault(replica.ReplicaId);
        // The recorded job wins over another live job of the same replica.
        if (hint?.SlurmJobId is { } hinted && tracked?.JobId != hinted
            && _ours.GetValueOrDefault(hinted) is { } job && SlurmJobStates.Phase(job.State) != SlurmJobPhase.Ended)
        {
            tracked = _replicas[replica.ReplicaId] = new Tracked(HandleFor(replica, job), job);
        }
        if (tracked is null || tracked.Vanished || SlurmJobStates.Phase(tracked.Job?.State ?? "") == SlurmJobPhase.Ended)
        {
            return null;
        }
        tracked.Claimed = true;
        // Any other live job of this replica is a duplicate: cancelled.
        foreach (var other in _ours.Values.Where(j => j.Id != tracked.JobId && SlurmJobStates.Phase(j.State) != SlurmJobPhase.Ended
                     && SlurmJobName.Parse(JobPrefix, j.Name) == replica))
        {
            _ = CancelQuietlyAsync(other.Id);
        }
        return tracked.Handle;
    }

    /// <inheritdoc />
    public ReplicaHandle? Find(string replicaId) => _replicas.GetValueOrDefault(replicaId)?.Handle;

    /// <inheritdoc />
    public IReadOnlyList<ReplicaHandle> List() => [.. _replicas.Values.Select(t => t.Handle)];

    /// <inheritdoc />
    public ReplicaStatus GetStatus(ReplicaHandle replica)
    {
        var t = _replicas.GetValueOrDefault(replica.ReplicaId);
        if (t is null || t.JobId != replica.Handle.SlurmJobId)
        {
            return ReplicaStatus.Ended(new ReplicaExit(null, "the job is no longer tracked"));
        }
        if (t.Vanished || t.Job is null)
        {
            return ReplicaStatus.Ended(new ReplicaExit(null, LogTail.ReplicaError(replica), $"Slurm job {t.JobId} left the queue"));
        }
        var job = t.Job;
        return SlurmJobStates.Phase(job.State) switch
        {
            SlurmJobPhase.Waiting => ReplicaStatus.Waiting(SlurmJobStates.WaitReason(job.State, job.Reason)),
            SlurmJobPhase.Ended => ReplicaStatus.Ended(new ReplicaExit(null, LogTail.ReplicaError(replica), SlurmJobStates.Ending(job.Id, job.State, job.Reason))),
            _ => ReplicaStatus.Running,
        };
    }

    /// <inheritdoc />
    public void Forget(ReplicaHandle replica)
    {
        if (_replicas.TryGetValue(replica.ReplicaId, out var t) && t.JobId == replica.Handle.SlurmJobId)
        {
            _replicas.TryRemove(new KeyValuePair<string, Tracked>(replica.ReplicaId, t));
        }
    }

    /// <inheritdoc />
    public Task<ReplicaProbe> ProbeAsync(ReplicaHandle replica, CancellationToken ct = default) => _probe.ProbeAsync(replica, ct);

    /// <inheritdoc />
    public void Dispose() => _probe.Dispose();

    /// <summary>Where a replica's output goes.</summary>
    public string LogPath(ReplicaRef r) => Path.Combine(ReplicaDir(r), r.ReplicaId + ".log");

    private string ReplicaDir(ReplicaRef r) => Path.Combine(_options.RunDir, r.Account, r.DeploymentId);

    private string EndpointPrefix(ReplicaRef r) => Path.Combine(ReplicaDir(r), r.ReplicaId + ".endpoint.");

    /// <summary>Where the job's replica listens: the host it wrote, or its node's address when it listens on every interface.</summary>
    private (string Host, int Port)? Endpoint(Tracked t)
    {
        string text;
        try
        {
            text = File.ReadAllText(EndpointPrefix(t.Handle.Replica) + t.JobId).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // not written yet
        }
        if (EndpointText.Parse(text) is not { } written)
        {
            return null;
        }
        var node = t.Job?.Node ?? "";
        var host = EndpointText.IsWildcard(written.Host)
            ? _nodes.GetValueOrDefault(node)?.Address ?? node
            : written.Host;
        return host.Length == 0 ? null : (host, written.Port);
    }

    private ReplicaHandle HandleFor(ReplicaRef replica, SlurmJob job)
    {
        // Without a readable comment the spec it runs is unknown: world size 0 never matches a spec, so it is replaced.
        var (model, world, precision) = JobComment.Parse(job.Comment) ?? ("", 0, Precision.Fp32);
        var handle = new ReplicaHandle(replica, RuntimeHandle.SlurmJob(job.Id), "", 0, world, model, precision, LogPath(replica), Adopted: true);
        return JobComment.Engine(job.Comment) is { } engine ? handle with { HealthPath = engine.HealthPath, Command = engine.Engine } : handle;
    }

    private async Task<string?> JobStateAsync(string jobId, CancellationToken ct)
    {
        var output = await _slurm.RunAsync("squeue", ["--noheader", "--states=all", $"--jobs={jobId}", "--format=%T"], ct);
        var state = output.Trim();
        return state.Length == 0 ? null : state;
    }

    private async Task WaitForEndAsync(string jobId, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var state = await JobStateAsync(jobId, ct);
            if (state is null || SlurmJobStates.Phase(state) == SlurmJobPhase.Ended)
            {
                return;
            }
            await Task.Delay(250, ct);
        }
    }

    private async Task CancelQuietlyAsync(string jobId)
    {
        try
        {
            await _slurm.RunAsync("scancel", [jobId]);
        }
        catch (SlurmException)
        {
            // The next pass sees it again and tries again.
        }
    }

    private async Task ReadNodesAsync(CancellationToken ct)
    {
        var nodes = SinfoFormat.Parse(await _slurm.RunAsync("sinfo", SinfoFormat.Arguments(_options.Partition), ct));
        _nodes = nodes.ToDictionary(n => n.Name, StringComparer.Ordinal);
        _nodesRead = DateTime.UtcNow;
    }

    private async Task TryReadNodesAsync(CancellationToken ct)
    {
        try
        {
            await ReadNodesAsync(ct);
        }
        catch (SlurmException e)
        {
            LastError = e.Message;
        }
    }

    /// <summary>A replica's job and what the last squeue said of it.</summary>
    private sealed class Tracked(ReplicaHandle handle, SlurmJob? job)
    {
        public ReplicaHandle Handle { get; set; } = handle;
        public SlurmJob? Job { get; set; } = job;
        public bool Vanished { get; set; }

        /// <summary>Submitted by this process, or adopted: the replica's job (a job merely found in the queue is not yet).</summary>
        public bool Claimed { get; set; }

        // What the job asked for, when this instance submitted it (an adopted job's comment does not say).
        public AcceleratorType? Type { get; init; }
        public string JobId => Handle.Handle.Id;
    }
}
