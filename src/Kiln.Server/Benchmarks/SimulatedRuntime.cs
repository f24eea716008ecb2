using System.Collections.Concurrent;
using System.Net;
using Kiln.Core.Deployments;
using Kiln.Core.Replicas;
using Kiln.Runtime;

namespace Kiln.Server.Benchmarks;

/// <summary>
/// A runtime whose replicas start at once and never exit: every replica's address is the one
/// <see cref="SimulatedReplicas"/> server, and probes are real HTTP requests to it. It measures what
/// the control plane itself costs, with process management taken out.
/// </summary>
public sealed class SimulatedRuntime(int port, int cpuSlots) : IReplicaRuntime, IDisposable
{
    private readonly ConcurrentDictionary<string, ReplicaHandle> _replicas = new();
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(5) };
    private int _nextPid = 100_000;
    private int _used;

    /// <inheritdoc />
    public string Describe() => $"{cpuSlots} simulated CPU slot(s)";

    /// <inheritdoc />
    /// <remarks>The pass counts free slots itself (<c>PassContext</c>); only the totals matter per deployment.</remarks>
    public SlotFacts Slots(AcceleratorType type, int perReplica) =>
        type == AcceleratorType.Cpu
            ? new(cpuSlots - Volatile.Read(ref _used), cpuSlots, perReplica, "CPU slot")
            : new(0, 0, perReplica, type.ToWireName());

    /// <inheritdoc />
    public Kiln.Core.Accelerators.AcceleratorInventory Accelerators() =>
        new("simulated", [new("simulated", [new(AcceleratorType.Cpu, cpuSlots, cpuSlots - Volatile.Read(ref _used), [], [])])], []);

    /// <inheritdoc />
    public Task RefreshAsync(CancellationToken ct = default) => Task.CompletedTask;

    /// <inheritdoc />
    public Task<ReplicaHandle> StartAsync(ReplicaLaunch launch, CancellationToken ct = default)
    {
        var handle = new ReplicaHandle(launch.Replica, RuntimeHandle.Process(Interlocked.Increment(ref _nextPid)), "127.0.0.1", port, launch.WorldSize,
            launch.ModelPath, launch.Precision, "", Adopted: false);
        _replicas[launch.Replica.ReplicaId] = handle;
        Interlocked.Add(ref _used, handle.WorldSize);
        return Task.FromResult(handle);
    }

    /// <inheritdoc />
    public Task StopAsync(ReplicaHandle replica, TimeSpan drainTimeout, CancellationToken ct = default)
    {
        Forget(replica);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public ReplicaHandle? Adopt(ReplicaRef replica, RuntimeHandle? hint) => null;

    /// <inheritdoc />
    public ReplicaHandle? Find(string replicaId) => _replicas.GetValueOrDefault(replicaId);

    /// <inheritdoc />
    public IReadOnlyList<ReplicaHandle> List() => [.. _replicas.Values];

    /// <inheritdoc />
    public ReplicaStatus GetStatus(ReplicaHandle replica) => ReplicaStatus.Running;

    /// <inheritdoc />
    public void Forget(ReplicaHandle replica)
    {
        if (_replicas.TryRemove(replica.ReplicaId, out var gone))
        {
            Interlocked.Add(ref _used, -gone.WorldSize);
        }
    }

    /// <inheritdoc />
    public async Task<ReplicaProbe> ProbeAsync(ReplicaHandle replica, CancellationToken ct = default)
    {
        using var response = await _http.GetAsync(new Uri(replica.BaseUri, "health"), ct);
        return new ReplicaProbe(response.StatusCode == HttpStatusCode.OK ? ReplicaHealth.Ready : ReplicaHealth.Loading);
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();
}
