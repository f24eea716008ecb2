using Kiln.Core.Deployments;
using Kiln.Core.Replicas;

namespace Kiln.Server.Replica;

/// <summary>A LoRA adapter to load at start, served as model <see cref="Name"/>.</summary>
public sealed record AdapterSpec(string Name, string Path, float Scale = 1f)
{
    /// <summary>Parses <c>name=path[:scale]</c>; the scale is taken only when what follows the last ':' is a number.</summary>
    public static AdapterSpec Parse(string text)
    {
        var eq = text.IndexOf('=');
        if (eq <= 0 || eq == text.Length - 1) throw new FormatException($"expected name=path[:scale], got '{text}'");
        var name = text[..eq];
        var path = text[(eq + 1)..];
        var colon = path.LastIndexOf(':');
        if (colon > 0 && float.TryParse(path[(colon + 1)..], System.Globalization.NumberStyles.Float,
                System.Globalization.CultureInfo.InvariantCulture, out var scale))
        {
            if (!float.IsFinite(scale)) throw new FormatException($"the scale in '{text}' must be finite");
            return new AdapterSpec(name, path[..colon], scale);
        }
        return new AdapterSpec(name, path);
    }
}

/// <summary>How a replica serves one model. The model loader receives these too (threads, KV cache type, slots).</summary>
/// <remarks>
/// The settings of the replica's command line live in <see cref="Args"/> alone (their defaults,
/// parsing and formatting are <see cref="ReplicaArgs"/>'s); the properties below that name them are
/// views of it under the names the replica's code reads. What the runtime never passes (the prefill
/// chunk, the body limit) is the replica's own and lives here.
/// </remarks>
public sealed record ReplicaOptions
{
    /// <summary>The engine's KV cache type for a precision: the engine keeps weights as stored, so precision is the cache's.</summary>
    public static Engine.Models.KvCacheType KvCacheTypeOf(Precision precision) => precision == Precision.Fp16 ? Engine.Models.KvCacheType.F16 : Engine.Models.KvCacheType.F32;

    /// <summary>The options a replica command line asks for.</summary>
    public static ReplicaOptions From(ReplicaArgs args) => new() { ModelPath = args.ModelPath, Args = args };

    /// <summary>The command-line settings: the one list of them.</summary>
    public ReplicaArgs Args { get; init; } = new() { ModelPath = "" };

    /// <summary>The GGUF file to serve.</summary>
    public required string ModelPath { get => Args.ModelPath; init => Args = Args with { ModelPath = value }; }

    /// <summary>The address to listen on.</summary>
    public string Host { get => Args.Host; init => Args = Args with { Host = value }; }

    /// <summary>0 picks a free port (see <see cref="RunningReplica.BaseAddress"/>).</summary>
    public int Port { get => Args.Port; init => Args = Args with { Port = value }; }

    /// <summary>Sequences decoded together; also the number of KV-cache slots the loader should create.</summary>
    public int MaxBatchSize { get => Args.MaxBatchSize; init => Args = Args with { MaxBatchSize = value }; }

    /// <summary>Tokens per sequence; null uses the model's context length (larger values are capped to it).</summary>
    public int? ContextSize { get => Args.ContextSize; init => Args = Args with { ContextSize = value }; }

    /// <summary>Sequences allowed to wait for a slot.</summary>
    public int MaxQueue { get => Args.MaxQueue; init => Args = Args with { MaxQueue = value }; }

    /// <summary>Compute threads for the model (the replica's world size); null lets the engine decide.</summary>
    public int? Threads { get => Args.WorldSize; init => Args = Args with { WorldSize = value }; }

    /// <summary>The KV cache's precision (<c>--kv-cache-type</c>); passed through to the model loader.</summary>
    public Precision KvCache { get => Args.KvCache; init => Args = Args with { KvCache = value }; }

    /// <summary>The prefix cache's budget in MiB (<c>--prefix-cache-mb</c>); 0 turns it off.</summary>
    public int PrefixCacheMb { get => Args.PrefixCacheMb; init => Args = Args with { PrefixCacheMb = value }; }

    /// <summary>The id served in responses and /v1/models; null uses the model file's name.</summary>
    public string? ModelName { get => Args.ModelName; init => Args = Args with { ModelName = value }; }

    /// <summary>Adapters loaded once the model is up (<see cref="ReplicaArgs.Adapters"/>, parsed); a failure fails the replica's start.</summary>
    public IReadOnlyList<AdapterSpec> Adapters => [.. Args.Adapters.Select(AdapterSpec.Parse)];

    /// <summary>The bearer token for <see cref="ReplicaArgs.ModelUrl"/> (from <see cref="ReplicaArgs.ModelTokenVariable"/>; never a flag).</summary>
    public string? ModelToken { get; init; }

    /// <summary>Excludes the download token, so logged options do not leak it.</summary>
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append($"Args = {Args}, PrefillChunk = {PrefillChunk}, MaxBodyBytes = {MaxBodyBytes}, WarmupBudget = {WarmupBudget}");
        return true;
    }

    /// <summary>Prompt tokens fed per step across all sequences.</summary>
    public int PrefillChunk { get; init; } = 256;

    /// <summary>
    /// Largest body of a completions or chat request; null sizes it to the context with
    /// <see cref="GenerationBodyLimit"/>. Bodies past it get 413 before they are read.
    /// </summary>
    public long? MaxBodyBytes { get; init; }

    /// <summary>
    /// Longest the replica spends warming up (compiling its hot paths with throwaway generations)
    /// before it reports ready; zero skips the warm-up.
    /// </summary>
    public TimeSpan WarmupBudget { get; init; } = DefaultWarmupBudget;

    public static readonly TimeSpan DefaultWarmupBudget = TimeSpan.FromSeconds(10);

    /// <summary>The floor of the default generation body limit: room for batched prompts on small contexts.</summary>
    public const long MinGenerationBodyBytes = 8 << 20;

    /// <summary>
    /// Body bytes allowed per context token by default: a long piece (16 characters) written as JSON
    /// <c>\uXXXX</c> escapes takes 96 bytes, and the rest is room for message framing.
    /// </summary>
    public const int BodyBytesPerToken = 128;

    /// <summary>Largest body of the other routes (adapter loads and the like carry a few fields).</summary>
    public const long OtherBodyBytes = 1 << 20;

    /// <summary>The generation body limit for a context of <paramref name="contextSize"/> tokens (unknown while loading).</summary>
    public long GenerationBodyLimit(int? contextSize) =>
        MaxBodyBytes ?? Math.Max(MinGenerationBodyBytes, (long)(contextSize ?? 0) * BodyBytesPerToken);

    public string ServedModelName => ModelName ?? Path.GetFileName(ModelPath);

    /// <summary>Throws <see cref="ArgumentException"/> naming the offending option.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ModelPath)) throw new ArgumentException("a model path is required", nameof(ModelPath));
        if (Port is < 0 or > 65535) throw new ArgumentOutOfRangeException(nameof(Port), Port, "port must be 0..65535");
        if (MaxBatchSize < 1) throw new ArgumentOutOfRangeException(nameof(MaxBatchSize), MaxBatchSize, "must be >= 1");
        if (ContextSize is < 1) throw new ArgumentOutOfRangeException(nameof(ContextSize), ContextSize, "must be >= 1");
        if (MaxQueue < 0) throw new ArgumentOutOfRangeException(nameof(MaxQueue), MaxQueue, "must be >= 0");
        if (Threads is < 1) throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "must be >= 1");
        if (MaxBodyBytes is < 1) throw new ArgumentOutOfRangeException(nameof(MaxBodyBytes), MaxBodyBytes, "must be >= 1");
        if (PrefillChunk < 1) throw new ArgumentOutOfRangeException(nameof(PrefillChunk), PrefillChunk, "must be >= 1");
        if (WarmupBudget < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(WarmupBudget), WarmupBudget, "must not be negative");
    }
}
