using Kiln.Core.Accelerators;
using Kiln.Core.Deployments;
using Kiln.Core.Engines;
using Kiln.Core.Replicas;
using Kiln.Runtime.Local;

namespace Kiln.Runtime;

/// <summary>
/// Runs replica processes. The reconciler decides what should run; a runtime only starts, stops,
/// observes and re-attaches to processes, so a local runtime and a cluster runtime are interchangeable.
/// A replica is found again by its <see cref="RuntimeHandle"/> (a process ID, a Slurm job ID) and
/// reached at a host and port.
/// </summary>
public interface IReplicaRuntime
{
    /// <summary>What replicas run on, for the server's start line: "8 CPU slot(s)", "Slurm partition gpu: ...".</summary>
    string Describe();

    /// <summary>The accelerator slots a deployment's replicas may start on, each taking <paramref name="perReplica"/> of <paramref name="type"/>.</summary>
    SlotFacts Slots(AcceleratorType type, int perReplica);

    /// <summary>
    /// What the runtime's nodes hold, and which replicas use it: what a deployment may ask for
    /// (<see cref="Placement"/>) and what <c>GET /v1/accelerators</c> shows.
    /// </summary>
    AcceleratorInventory Accelerators();

    /// <summary>
    /// Brings what the runtime knows of its replicas up to date, once per reconcile pass, before
    /// <see cref="GetStatus"/> is asked about each (a cluster runtime asks its scheduler once here
    /// rather than once per replica). Never throws for an unreachable scheduler: the last view stays.
    /// </summary>
    Task RefreshAsync(CancellationToken ct = default);

    /// <summary>Starts a replica; returns once the process exists (it loads its model afterwards).</summary>
    Task<ReplicaHandle> StartAsync(ReplicaLaunch launch, CancellationToken ct = default);

    /// <summary>
    /// Stops a replica: asks it to drain and exit, waits up to <paramref name="drainTimeout"/>,
    /// then kills it. Returns once the process is gone; the runtime then forgets it.
    /// </summary>
    Task StopAsync(ReplicaHandle replica, TimeSpan drainTimeout, CancellationToken ct = default);

    /// <summary>
    /// Re-attaches to a replica started by an earlier control-plane process, or null when no live
    /// process provably belongs to <paramref name="replica"/>. <paramref name="hint"/> is the
    /// recorded handle, if any; without it (or when it is stale or another runtime's) the runtime
    /// may search. Call <see cref="RefreshAsync"/> first.
    /// </summary>
    ReplicaHandle? Adopt(ReplicaRef replica, RuntimeHandle? hint);

    /// <summary>The tracked replica with this ID, or null.</summary>
    ReplicaHandle? Find(string replicaId);

    /// <summary>Every replica this runtime tracks (running, or exited but not yet forgotten).</summary>
    IReadOnlyList<ReplicaHandle> List();

    /// <summary>Whether the replica's process runs, waits to be scheduled, or how it ended.</summary>
    ReplicaStatus GetStatus(ReplicaHandle replica);

    /// <summary>
    /// Stops tracking a replica, releasing its slots, without touching its process: one that exited,
    /// or one left running for another control plane to adopt (a leader that lost its lease).
    /// </summary>
    void Forget(ReplicaHandle replica);

    /// <summary>Asks the replica's HTTP surface whether it serves.</summary>
    Task<ReplicaProbe> ProbeAsync(ReplicaHandle replica, CancellationToken ct = default);
}

/// <summary>Identifies a replica across control-plane restarts.</summary>
public sealed record ReplicaRef(string Account, string DeploymentId, string ReplicaId);

/// <summary>What starting a replica needs.</summary>
/// <param name="Replica">Which replica.</param>
/// <param name="ModelPath">The GGUF file to serve.</param>
/// <param name="ModelName">The name it answers to, <c>accounts/A/models/M</c>.</param>
/// <param name="WorldSize">Accelerator slots it reserves (CPU threads on the local runtime).</param>
/// <param name="Precision">The precision it serves at (its KV cache type on the local runtime).</param>
/// <param name="Download">
/// Set when the replica downloads its model into its node's cache (then <paramref name="ModelPath"/>
/// is the file's place in that cache); null when it opens <paramref name="ModelPath"/> as it is.
/// </param>
public sealed record ReplicaLaunch(ReplicaRef Replica, string ModelPath, string ModelName, int WorldSize, Precision Precision, ModelDownload? Download = null)
{
    /// <summary>What its world size counts: GPUs of a type, or CPU cores (a cluster runtime asks its scheduler for one or the other).</summary>
    public AcceleratorType AcceleratorType { get; init; } = AcceleratorType.Cpu;

    /// <summary>The engine it runs when not Kiln's own (<c>kiln replica</c>); null for Kiln's.</summary>
    public EngineLaunch? Engine { get; init; }

    /// <summary>The path of its health check.</summary>
    public string HealthPath => Engine?.HealthPath ?? EngineLaunch.KilnHealthPath;

    /// <summary>
    /// The whole command line (program first) listening on <paramref name="host"/>:<paramref name="port"/>:
    /// <paramref name="kiln"/> with <see cref="Args"/> for Kiln's engine, else the engine's template filled in.
    /// </summary>
    public IReadOnlyList<string> CommandLine(ReplicaCommand kiln, string host, int port) => Engine is { } e
        ? CommandTemplate.Expand(e.Template, new TemplateValues(ModelPath, host, port, WorldSize, e.MaxBatch, e.Context, ModelName), e.ExtraArgs)
        : [kiln.FileName, .. kiln.PrefixArguments, .. Args(host, port).Format()];

    /// <summary>
    /// The engine's command line binding <paramref name="host"/> with <c>{port}</c> left in place, for a
    /// runtime whose node picks the port (<c>kiln engine-exec</c>); throws for Kiln's own engine.
    /// </summary>
    public IReadOnlyList<string> EngineCommandLine(string host) => Engine is { } e
        ? CommandTemplate.Expand(e.Template, new TemplateValues(ModelPath, host, null, WorldSize, e.MaxBatch, e.Context, ModelName), e.ExtraArgs)
        : throw new InvalidOperationException("Kiln's own replica takes its flags, not an engine template");

    /// <summary>The draft model's file for speculative decoding (opened where it is); null for none.</summary>
    public string? DraftModelPath { get; init; }

    /// <summary>Tokens proposed per step when speculating.</summary>
    public int? DraftTokens { get; init; }

    /// <summary>N-gram speculation's n-gram length; null for none.</summary>
    public int? NgramSpeculation { get; init; }

    /// <summary>Sequences decoded together (<c>--max-batch-size</c>); null for the replica's default.</summary>
    public int? MaxBatchSize { get; init; }

    /// <summary>Context tokens per sequence (<c>--ctx-size</c>); null for the model's.</summary>
    public int? ContextSize { get; init; }

    /// <summary>The prefix cache's budget in MiB (<c>--prefix-cache-mb</c>); null for the replica's default.</summary>
    public int? PrefixCacheMb { get; init; }

    /// <summary>Kiln's replica command line for this launch, listening on <paramref name="host"/>:<paramref name="port"/> (0: a free port it picks).</summary>
    public ReplicaArgs Args(string host, int port) => new()
    {
        ModelPath = ModelPath,
        Host = host,
        Port = port,
        WorldSize = WorldSize,
        KvCache = Precision,
        ModelName = ModelName,
        ReplicaId = Replica.ReplicaId,
        ModelUrl = Download?.Url,
        ModelSha256 = Download?.Sha256,
        ModelCache = Download?.CacheDir,
        ModelCacheMaxBytes = Download?.CacheMaxBytes,
        DraftModel = DraftModelPath,
        DraftTokens = DraftTokens,
        NgramSpeculation = NgramSpeculation,
        MaxBatchSize = MaxBatchSize ?? Defaults.MaxBatchSize,
        ContextSize = ContextSize,
        PrefixCacheMb = PrefixCacheMb ?? ReplicaArgs.DefaultPrefixCacheMb,
    };

    private static readonly ReplicaArgs Defaults = new() { ModelPath = "" };
}

/// <summary>How to run a replica on an engine other than Kiln's own (from its <see cref="EngineProfile"/>).</summary>
/// <param name="Name">The profile's name, e.g. "vllm".</param>
/// <param name="Template">The command template.</param>
/// <param name="ExtraArgs">Arguments after the template's: the profile's addon arguments, then the deployment's.</param>
/// <param name="Environment">Variables the engine's process gets.</param>
/// <param name="HealthPath">Its health check's path.</param>
/// <param name="MaxBatch">The <c>{max_batch}</c> value.</param>
/// <param name="Context">The <c>{context}</c> value, or null for the model's.</param>
public sealed record EngineLaunch(
    string Name, IReadOnlyList<string> Template, IReadOnlyList<string> ExtraArgs, IReadOnlyDictionary<string, string> Environment,
    string HealthPath, int MaxBatch, int? Context)
{
    /// <summary>Kiln's replica's health path.</summary>
    public const string KilnHealthPath = "/health";

    /// <summary>The environment variable naming the replica an engine process runs, so a restarted control plane can find it again.</summary>
    public const string ReplicaIdVariable = "KILN_REPLICA_ID";

    /// <summary>
    /// The launch of a deployment's replicas on <paramref name="profile"/>, with
    /// <paramref name="addons"/> (the profile's addon arguments and environment) and the
    /// deployment's <paramref name="extraArgs"/>; null for Kiln's own engine. A deployment's
    /// <paramref name="maxBatch"/> and <paramref name="context"/> (from its shape) replace the profile's.
    /// </summary>
    public static EngineLaunch? For(EngineProfile profile, bool addons, IReadOnlyList<string> extraArgs, int? maxBatch = null, int? context = null)
    {
        if (profile.IsKiln)
        {
            return null;
        }
        var environment = new Dictionary<string, string>(profile.Environment);
        if (addons)
        {
            foreach (var (k, v) in profile.AddonEnvironment)
            {
                environment[k] = v;
            }
        }
        return new EngineLaunch(profile.Name, profile.Command, [.. addons ? profile.AddonArguments : [], .. extraArgs], environment,
            profile.HealthPath, maxBatch ?? profile.MaxBatch, context ?? profile.Context);
    }
}

/// <summary>Where and how a replica downloads its model.</summary>
/// <param name="Url">The control plane's download URL of the model.</param>
/// <param name="Sha256">The file's SHA-256 (lowercase hex).</param>
/// <param name="CacheDir">The node's model cache.</param>
/// <param name="CacheMaxBytes">The size the cache is pruned to, or null for no bound.</param>
/// <param name="Token">
/// The bearer token the replica presents: a runtime passes it in the environment
/// (<see cref="ReplicaArgs.ModelTokenVariable"/>), never on the command line.
/// </param>
public sealed record ModelDownload(string Url, string Sha256, string CacheDir, long? CacheMaxBytes, string Token)
{
    /// <summary>Excludes the token, so a logged launch does not leak it.</summary>
    public override string ToString() => $"ModelDownload {{ Url = {Url}, Sha256 = {Sha256}, CacheDir = {CacheDir}, CacheMaxBytes = {CacheMaxBytes} }}";
}

/// <summary>A running (or queued, or just exited) replica process.</summary>
/// <param name="Replica">Which replica.</param>
/// <param name="Handle">The runtime's own name for it: a process ID, a Slurm job ID.</param>
/// <param name="Host">Where it listens (empty while a cluster has not placed it yet).</param>
/// <param name="Port">Its port (0 until known).</param>
/// <param name="WorldSize">Accelerator slots it holds.</param>
/// <param name="ModelPath">The file it serves.</param>
/// <param name="Precision">The precision it serves at.</param>
/// <param name="LogPath">Its output.</param>
/// <param name="Adopted">Found again after a control-plane restart rather than started by this process.</param>
public sealed record ReplicaHandle(
    ReplicaRef Replica,
    RuntimeHandle Handle,
    string Host,
    int Port,
    int WorldSize,
    string ModelPath,
    Precision Precision,
    string LogPath,
    bool Adopted)
{
    /// <summary>The replica's ID.</summary>
    public string ReplicaId => Replica.ReplicaId;

    /// <summary>An engine's command line as started (for events and errors); null for Kiln's own replica.</summary>
    public string? Command { get; init; }

    /// <summary>The path its health is checked at.</summary>
    public string HealthPath { get; init; } = EngineLaunch.KilnHealthPath;

    /// <summary>Base URL of its HTTP surface.</summary>
    public Uri BaseUri => new($"http://{(Host.Contains(':') ? $"[{Host}]" : Host)}:{Port}/");

    /// <summary>True once the runtime knows where it listens.</summary>
    public bool HasEndpoint => Port > 0 && Host.Length > 0;

    /// <summary>
    /// The devices it was given (<see cref="AcceleratorDevice.Id"/>: UUIDs or indices, as in its
    /// <c>CUDA_VISIBLE_DEVICES</c>); empty for a CPU replica, or where a cluster scheduler assigns them.
    /// </summary>
    public IReadOnlyList<string> Devices { get; init; } = [];

    /// <summary>"127.0.0.1:41234 (pid 1234)" or "Slurm job 5678" while it has no endpoint yet.</summary>
    public string Describe() => HasEndpoint ? $"{Host}:{Port} ({Handle.Describe()})" : Handle.Describe();
}

/// <summary>What a replica's process is doing: running, waiting to be scheduled, or ended.</summary>
/// <param name="Exit">How it ended, or null while it has not.</param>
/// <param name="WaitReason">Why a cluster scheduler has not started it yet, or null once it runs.</param>
public sealed record ReplicaStatus(ReplicaExit? Exit = null, string? WaitReason = null)
{
    /// <summary>Running (or at least not known to have ended or to wait).</summary>
    public static ReplicaStatus Running { get; } = new();

    /// <summary>Ended.</summary>
    public static ReplicaStatus Ended(ReplicaExit exit) => new(exit);

    /// <summary>Queued by a scheduler.</summary>
    public static ReplicaStatus Waiting(string reason) => new(WaitReason: reason);
}

/// <summary>How a replica process ended.</summary>
/// <param name="ExitCode">The exit code, when known (not for adopted processes).</param>
/// <param name="LastError">The last error it logged, if any: usually why it failed.</param>
/// <param name="How">How it ended when a scheduler says so instead of an exit code, e.g. "Slurm job 12 TIMEOUT".</param>
public sealed record ReplicaExit(int? ExitCode, string? LastError, string? How = null)
{
    /// <summary>"code 1", "signal 9 (SIGKILL)", "Slurm job 12 TIMEOUT", or "an unknown code".</summary>
    public string Describe() => How ?? ExitCode switch
    {
        // A process ended by a signal reports 128 + the signal's number.
        > 128 and < 160 and var c => $"signal {c - 128}{SignalName(c - 128)}",
        { } c => $"code {c}",
        null => "an unknown code",
    };

    private static string SignalName(int signal) => signal switch
    {
        1 => " (SIGHUP)",
        2 => " (SIGINT)",
        6 => " (SIGABRT)",
        7 => " (SIGBUS)",
        9 => " (SIGKILL, e.g. killed by hand or by the kernel's out-of-memory killer)",
        11 => " (SIGSEGV)",
        15 => " (SIGTERM)",
        _ => "",
    };
}

/// <summary>What a health probe found.</summary>
/// <param name="Health">The verdict.</param>
/// <param name="Error">Why, when the replica reports that its model failed to load.</param>
/// <param name="Download">How far it has fetched its model, while <see cref="ReplicaHealth.Downloading"/>.</param>
public sealed record ReplicaProbe(ReplicaHealth Health, string? Error = null, DownloadProgress? Download = null);

/// <summary>The verdict of a health probe.</summary>
public enum ReplicaHealth
{
    /// <summary>Nothing answered (not listening yet, or hung).</summary>
    Unreachable,
    /// <summary>Answering, but still loading (503).</summary>
    Loading,
    /// <summary>Serving (200).</summary>
    Ready,

    /// <summary>Alive but unable to serve: its model failed to load (503 with <c>"status": "error"</c>).</summary>
    Failed,

    /// <summary>Fetching its model file (503 with <c>"status": "downloading"</c> and the bytes done and total).</summary>
    Downloading,
}
