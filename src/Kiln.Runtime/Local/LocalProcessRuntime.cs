using System.Collections.Concurrent;
using System.Diagnostics;
using Kiln.Core.Accelerators;
using Kiln.Core.Deployments;
using Kiln.Core.Replicas;
using Kiln.Runtime.Accelerators;

namespace Kiln.Runtime.Local;

/// <summary>
/// Replicas as child processes on this machine, each serving HTTP on a free loopback port.
/// </summary>
/// <remarks>
/// <para>A replica runs <c>kiln replica ...</c> (<see cref="ReplicaArgs"/>, with its world size as
/// <c>--threads</c> and its precision as <c>--kv-cache-type</c>) through <c>/bin/sh -c 'exec ...'</c>, which keeps the process ID and sends
/// stdout and stderr straight to the replica's log file. Writing to a file rather than a pipe
/// matters: a replica must outlive a crashed control plane (to be adopted after its restart), and a
/// pipe to a dead parent would break its next write.</para>
/// <para>Adoption proves ownership through <c>/proc/&lt;pid&gt;/cmdline</c>: the process must be a
/// replica carrying the recorded, randomly generated replica ID, so a recycled process ID is never
/// mistaken for a replica. Exit codes are only known for processes this instance started.</para>
/// <para>A GPU replica is given exactly its devices in <c>CUDA_VISIBLE_DEVICES</c> /
/// <c>ROCR_VISIBLE_DEVICES</c> (<see cref="VisibleDevices"/>), never one another replica holds; an
/// adopted replica's devices are read back from <c>/proc/&lt;pid&gt;/environ</c>, so a restarted
/// server hands out only what is free.</para>
/// </remarks>
public sealed class LocalProcessRuntime : IReplicaRuntime, IDisposable
{
    private readonly ReplicaCommand _command;
    private readonly string _logRoot;
    private readonly string _host;
    private readonly FreePorts _ports = new();
    private readonly ConcurrentDictionary<string, Tracked> _replicas = new();
    private readonly HealthProbe _probe;
    // Held while devices are chosen and the chosen replica is tracked, so two starts never pick the same device.
    private readonly Lock _allocation = new();

    /// <summary>Creates a runtime.</summary>
    /// <param name="command">The replica program.</param>
    /// <param name="logRoot">Logs go to <c>&lt;logRoot&gt;/&lt;account&gt;/&lt;deployment&gt;/&lt;replica&gt;.log</c>.</param>
    /// <param name="inventory">The accelerators replicas share.</param>
    /// <param name="host">The address replicas bind.</param>
    /// <param name="probeTimeout">How long a health probe may take.</param>
    public LocalProcessRuntime(ReplicaCommand command, string logRoot, LocalInventory inventory, string host = "127.0.0.1", TimeSpan? probeTimeout = null)
    {
        _command = command;
        _logRoot = Path.GetFullPath(logRoot);
        _host = host;
        Inventory = inventory;
        _probe = new HealthProbe(probeTimeout);
    }

    /// <summary>The accelerators replicas share.</summary>
    public LocalInventory Inventory { get; }

    /// <summary>The name this machine goes by in the inventory.</summary>
    public const string NodeName = "local";

    /// <inheritdoc />
    public string Describe() => Inventory.ToString();

    /// <inheritdoc />
    public SlotFacts Slots(AcceleratorType type, int perReplica)
    {
        var total = Inventory.Count(type);
        return new SlotFacts(total - Held(type), total, perReplica, type == AcceleratorType.Cpu ? "CPU slot" : type.ToWireName());
    }

    /// <inheritdoc />
    public AcceleratorInventory Accelerators()
    {
        var tracked = _replicas.Values.ToList();
        var pools = Inventory.Types.Select(type =>
        {
            var holders = tracked.Where(t => t.Type == type)
                .Select(t => new ReplicaHolding(t.Handle.Replica.Account, t.Handle.Replica.DeploymentId, t.Handle.ReplicaId,
                    type == AcceleratorType.Cpu ? t.Handle.WorldSize : t.Handle.Devices.Count, t.Handle.Devices))
                .ToList();
            var devices = Inventory.Devices.Where(d => d.Type == type)
                .Select(d => new DeviceUse(d, tracked.FirstOrDefault(t => t.Handle.Devices.Contains(d.Id))?.Handle.ReplicaId))
                .ToList();
            var total = Inventory.Count(type);
            return new AcceleratorPool(type, total, total - Held(type), devices, holders, devices.Select(d => d.Device.MemoryMiB).FirstOrDefault());
        }).ToList();
        return new AcceleratorInventory(Inventory.Source, [new NodeAccelerators(NodeName, pools)], Inventory.Warnings);
    }

    /// <summary>Accelerators of <paramref name="type"/> that tracked replicas hold.</summary>
    private int Held(AcceleratorType type) => type == AcceleratorType.Cpu
        ? _replicas.Values.Where(t => t.Type == AcceleratorType.Cpu).Sum(t => t.Handle.WorldSize)
        : Inventory.Devices.Count(d => d.Type == type && _replicas.Values.Any(t => t.Handle.Devices.Contains(d.Id)));

    /// <inheritdoc />
    /// <remarks>Nothing to do: each process is looked at directly.</remarks>
    public Task RefreshAsync(CancellationToken ct = default) => Task.CompletedTask;

    /// <summary>Where a replica's output goes.</summary>
    public string LogPath(ReplicaRef r) => Path.Combine(_logRoot, r.Account, r.DeploymentId, r.ReplicaId + ".log");

    /// <inheritdoc />
    public Task<ReplicaHandle> StartAsync(ReplicaLaunch launch, CancellationToken ct = default)
    {
        var port = _ports.Next();
        var log = LogPath(launch.Replica);
        Directory.CreateDirectory(Path.GetDirectoryName(log)!);
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        // $0 is the log file; "$@" the replica command. exec keeps the shell's process ID.
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("exec \"$@\" </dev/null >>\"$0\" 2>&1");
        psi.ArgumentList.Add(log);
        var command = launch.CommandLine(_command, _host, port);
        foreach (var a in command)
        {
            psi.ArgumentList.Add(a);
        }
        if (launch.Download is { } download)
        {
            psi.Environment[ReplicaArgs.ModelTokenVariable] = download.Token;
        }
        if (launch.Engine is { } engine)
        {
            foreach (var (k, v) in engine.Environment)
            {
                psi.Environment[k] = v;
            }
            // An engine's command line does not carry the replica's ID as kiln replica's does: its environment does.
            var mark = new EngineProcessMark(launch.Replica.ReplicaId, _host, port, launch.WorldSize, launch.ModelPath, launch.Precision, launch.HealthPath, engine.Name);
            foreach (var (k, v) in mark.Variables())
            {
                psi.Environment[k] = v;
            }
        }
        lock (_allocation)
        {
            var devices = Allocate(launch.AcceleratorType, launch.WorldSize);
            foreach (var (name, value) in VisibleDevices.Environment(devices))
            {
                psi.Environment[name] = value;
            }
            var given = devices.Count == 0 ? "" : $" with {launch.AcceleratorType.ToWireName()} {string.Join(",", devices.Select(d => d.Id))}";
            var how = launch.Engine is { } e ? $" with engine {e.Name}: {EngineCommand.Describe(command)}" : "";
            File.AppendAllText(log, $"{DateTimeOffset.UtcNow:O} starting replica {launch.Replica.ReplicaId} on port {port}{given}{how}\n");
            var child = Process.Start(psi) ?? throw new InvalidOperationException("the replica process did not start");
            var handle = new ReplicaHandle(launch.Replica, RuntimeHandle.Process(child.Id), _host, port, launch.WorldSize, launch.ModelPath, launch.Precision, log, Adopted: false)
            {
                Devices = [.. devices.Select(d => d.Id)],
                HealthPath = launch.HealthPath,
                Command = launch.Engine is null ? null : EngineCommand.Describe(command),
            };
            _replicas[handle.ReplicaId] = new Tracked(handle, child, launch.AcceleratorType);
            return Task.FromResult(handle);
        }
    }

    /// <summary>The devices a new replica of <paramref name="type"/> and <paramref name="count"/> gets (none for CPU slots); throws when they are not free.</summary>
    private IReadOnlyList<AcceleratorDevice> Allocate(AcceleratorType type, int count)
    {
        var free = Slots(type, count);
        if (free.Free < count)
        {
            throw new InvalidOperationException($"needs {count} {free.Unit}(s), {Math.Max(free.Free, 0)} of {free.Total} free on this node");
        }
        if (type == AcceleratorType.Cpu)
        {
            return [];
        }
        var held = _replicas.Values.SelectMany(t => t.Handle.Devices).ToHashSet(StringComparer.Ordinal);
        return DeviceAllocator.Pick(Inventory.Devices, type, count, held)
            ?? throw new InvalidOperationException($"needs {count} {type.ToWireName()} device(s), fewer are free on this node");
    }

    /// <inheritdoc />
    public async Task StopAsync(ReplicaHandle replica, TimeSpan drainTimeout, CancellationToken ct = default)
    {
        var tracked = _replicas.GetValueOrDefault(replica.ReplicaId);
        var child = tracked?.Handle.Handle == replica.Handle ? tracked.Child : null;
        if (Exited(replica, child) is null)
        {
            // SIGTERM: the replica stops accepting, drains in-flight requests and exits.
            Signal(replica, child, PosixProcess.SigTerm);
            if (!await WaitForExitAsync(replica, child, drainTimeout, ct))
            {
                Signal(replica, child, PosixProcess.SigKill);
                await WaitForExitAsync(replica, child, TimeSpan.FromSeconds(10), ct);
            }
        }
        if (tracked is not null && tracked.Handle.Handle == replica.Handle)
        {
            _replicas.TryRemove(new KeyValuePair<string, Tracked>(replica.ReplicaId, tracked));
            tracked.Child?.Dispose();
        }
    }

    /// <inheritdoc />
    public ReplicaHandle? Adopt(ReplicaRef replica, RuntimeHandle? hint)
    {
        if (Find(replica.ReplicaId) is { } known)
        {
            return known;
        }
        var pid = hint?.Pid is { } hinted && Parse(hinted, replica) is not null
            ? hinted
            : PosixProcess.All().FirstOrDefault(p => Parse(p, replica) is not null);
        ReplicaHandle handle;
        if (pid != 0 && PosixProcess.IsAlive(pid) && Parse(pid, replica) is { } args)
        {
            handle = new ReplicaHandle(replica, RuntimeHandle.Process(pid), args.Host, args.Port, args.WorldSize ?? 1, args.ModelPath, args.KvCache, LogPath(replica), Adopted: true);
        }
        else if (FindEngine(replica, hint) is { } engine)
        {
            (pid, var mark) = engine;
            handle = new ReplicaHandle(replica, RuntimeHandle.Process(pid), mark.Host, mark.Port, mark.WorldSize, mark.ModelPath, mark.Precision, LogPath(replica), Adopted: true)
            {
                HealthPath = mark.HealthPath,
                Command = PosixProcess.CommandLine(pid) is { } argv ? EngineCommand.Describe(argv) : mark.Engine,
            };
        }
        else
        {
            return null;
        }
        // The devices it was given are in its environment: they stay its own.
        var devices = PosixProcess.Environment(pid) is { } env ? VisibleDevices.Parse(env) : [];
        var type = devices.Count == 0
            ? AcceleratorType.Cpu
            : Inventory.Devices.FirstOrDefault(d => devices.Contains(d.Id))?.Type;
        handle = handle with { Devices = devices };
        lock (_allocation)
        {
            _replicas[replica.ReplicaId] = new Tracked(handle, null, type);
        }
        return handle;
    }

    /// <inheritdoc />
    public ReplicaHandle? Find(string replicaId) => _replicas.GetValueOrDefault(replicaId)?.Handle;

    /// <inheritdoc />
    public IReadOnlyList<ReplicaHandle> List() => [.. _replicas.Values.Select(t => t.Handle)];

    /// <inheritdoc />
    public ReplicaStatus GetStatus(ReplicaHandle replica)
    {
        var tracked = _replicas.GetValueOrDefault(replica.ReplicaId);
        var own = tracked?.Handle.Handle == replica.Handle ? tracked : null;
        if (Exited(replica, own?.Child) is not { } exit)
        {
            return ReplicaStatus.Running;
        }
        return ReplicaStatus.Ended(replica.Command is null ? exit : exit with { LastError = LogTail.ReplicaError(replica) });
    }

    /// <inheritdoc />
    public void Forget(ReplicaHandle replica)
    {
        if (_replicas.TryGetValue(replica.ReplicaId, out var tracked) && tracked.Handle.Handle == replica.Handle
            && _replicas.TryRemove(new KeyValuePair<string, Tracked>(replica.ReplicaId, tracked)))
        {
            tracked.Child?.Dispose();
        }
    }

    /// <inheritdoc />
    public Task<ReplicaProbe> ProbeAsync(ReplicaHandle replica, CancellationToken ct = default) => _probe.ProbeAsync(replica, ct);

    /// <inheritdoc />
    public void Dispose()
    {
        // Replicas keep running: the control plane decides whether to stop them before it exits.
        _probe.Dispose();
        foreach (var t in _replicas.Values)
        {
            t.Child?.Dispose();
        }
    }

    private static ReplicaExit? Exited(ReplicaHandle replica, Process? child)
    {
        if (child is not null)
        {
            return child.HasExited ? new ReplicaExit(child.ExitCode, LogTail.LastError(replica.LogPath)) : null;
        }
        return PosixProcess.IsAlive(Pid(replica)) && Owns(Pid(replica), replica.Replica)
            ? null
            : new ReplicaExit(null, LogTail.LastError(replica.LogPath));
    }

    private static void Signal(ReplicaHandle replica, Process? child, int signal)
    {
        if (child is not null ? !child.HasExited : Owns(Pid(replica), replica.Replica))
        {
            PosixProcess.Signal(Pid(replica), signal);
        }
    }

    private static async Task<bool> WaitForExitAsync(ReplicaHandle replica, Process? child, TimeSpan timeout, CancellationToken ct)
    {
        if (child is not null)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(timeout);
            try
            {
                await child.WaitForExitAsync(cts.Token);
                return true;
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                return false;
            }
        }
        var deadline = DateTime.UtcNow + timeout;
        while (PosixProcess.IsAlive(Pid(replica)))
        {
            if (DateTime.UtcNow >= deadline)
            {
                return false;
            }
            await Task.Delay(50, ct);
        }
        return true;
    }

    private static int Pid(ReplicaHandle replica) => replica.Handle.Pid ?? 0;

    /// <summary>The replica arguments of process <paramref name="pid"/> if it is <paramref name="replica"/>, else null.</summary>
    /// <summary>
    /// The engine process running <paramref name="replica"/>, found by the mark in its environment:
    /// the recorded process first, else the marked process whose parent is not marked for it (an
    /// engine's own workers inherit the mark).
    /// </summary>
    private static (int Pid, EngineProcessMark Mark)? FindEngine(ReplicaRef replica, RuntimeHandle? hint)
    {
        if (hint?.Pid is { } hinted && PosixProcess.IsAlive(hinted) && MarkOf(hinted, replica) is { } recorded)
        {
            return (hinted, recorded);
        }
        foreach (var pid in PosixProcess.All())
        {
            if (MarkOf(pid, replica) is { } mark && (PosixProcess.ParentId(pid) is not { } parent || MarkOf(parent, replica) is null))
            {
                return (pid, mark);
            }
        }
        return null;
    }

    private static EngineProcessMark? MarkOf(int pid, ReplicaRef replica) =>
        PosixProcess.Environment(pid) is { } env && EngineProcessMark.Read(env) is { } mark && mark.ReplicaId == replica.ReplicaId ? mark : null;

    /// <summary>True when <paramref name="pid"/> runs <paramref name="replica"/>: Kiln's replica by its command line, another engine by its environment.</summary>
    private static bool Owns(int pid, ReplicaRef replica) => Parse(pid, replica) is not null || MarkOf(pid, replica) is not null;

    private static ReplicaArgs? Parse(int pid, ReplicaRef replica)
        => PosixProcess.CommandLine(pid) is { } argv && ReplicaArgs.FromCommandLine(argv) is { } args && args.ReplicaId == replica.ReplicaId
            ? args
            : null;

    /// <param name="Handle">The replica.</param>
    /// <param name="Child">Its process, when this instance started it.</param>
    /// <param name="Type">What it holds: CPU slots, GPUs of a type, or null for devices this machine no longer lists.</param>
    private sealed record Tracked(ReplicaHandle Handle, Process? Child, AcceleratorType? Type);
}
