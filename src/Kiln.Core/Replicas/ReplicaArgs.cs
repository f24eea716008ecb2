using System.Globalization;
using Kiln.Core.Deployments;
using Kiln.Core.ModelFiles;
using Kiln.Core.Wire;

namespace Kiln.Core.Replicas;

/// <summary>
/// The command line of a replica, <c>replica --model F --port P ...</c>: the one contract between
/// whoever starts a replica (the runtime), whoever reads a running replica's command line back
/// (adoption) and the replica itself. <see cref="Format"/> writes it and <see cref="Parse"/> reads it.
/// </summary>
public sealed record ReplicaArgs
{
    /// <summary>The subcommand that starts a replica; the first of <see cref="Format"/>'s arguments.</summary>
    public const string Verb = "replica";

    /// <summary>Flag names.</summary>
    public static class Flags
    {
#pragma warning disable CS1591 // Each is the flag of the property with its name.
        public const string Model = "--model";
        public const string Host = "--host";
        public const string Port = "--port";
        public const string MaxBatchSize = "--max-batch-size";
        public const string ContextSize = "--ctx-size";
        public const string MaxQueue = "--max-queue";
        public const string WorldSize = "--threads";
        public const string KvCache = "--kv-cache-type";
        public const string ModelName = "--model-name";
        public const string ReplicaId = "--replica-id";
        public const string Adapters = "--lora";
        public const string ModelUrl = "--model-url";
        public const string ModelSha256 = "--model-sha256";
        public const string ModelCache = "--model-cache";
        public const string ModelCacheMaxBytes = "--model-cache-max-bytes";
        public const string EndpointFile = "--endpoint-file";
        public const string PrefixCacheMb = "--prefix-cache-mb";
        public const string DraftModel = "--draft-model";
        public const string DraftTokens = "--draft-tokens";
        public const string NgramSpeculation = "--ngram-speculation";
#pragma warning restore CS1591

        /// <summary>Every flag a replica accepts.</summary>
        public static IReadOnlyList<string> All { get; } =
            [Model, Host, Port, MaxBatchSize, ContextSize, MaxQueue, WorldSize, KvCache, ModelName, ReplicaId, Adapters,
             ModelUrl, ModelSha256, ModelCache, ModelCacheMaxBytes, EndpointFile, PrefixCacheMb, DraftModel, DraftTokens, NgramSpeculation];
    }

    /// <summary>
    /// The environment variable carrying the bearer token a downloading replica presents: a secret,
    /// so never on the command line, which every user of the node can read.
    /// </summary>
    public const string ModelTokenVariable = "KILN_MODEL_TOKEN";

    // The engine keeps weights as stored, so a replica's precision is its KV cache's element type.
    private static readonly WireTable<Precision> KvCacheTypes = new(
        (Precision.Fp32, "f32"),
        (Precision.Fp16, "f16"));

    /// <summary>The GGUF file to serve.</summary>
    public required string ModelPath { get; init; }

    /// <summary>The address to listen on.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>The TCP port; 0 picks a free one.</summary>
    public int Port { get; init; } = 8080;

    /// <summary>Sequences decoded together (KV cache slots).</summary>
    public int MaxBatchSize { get; init; } = 8;

    /// <summary>Context tokens per sequence; null uses the model's.</summary>
    public int? ContextSize { get; init; }

    /// <summary>Sequences allowed to wait for a slot.</summary>
    public int MaxQueue { get; init; } = 64;

    /// <summary>Accelerator slots the replica holds, as compute threads (<c>--threads</c>); null lets the engine decide.</summary>
    public int? WorldSize { get; init; }

    /// <summary>The precision served at, as <c>--kv-cache-type f32|f16</c>.</summary>
    public Precision KvCache { get; init; } = Precision.Fp32;

    /// <summary>The prefix cache's budget when none is given: on by default, as in vLLM.</summary>
    public const int DefaultPrefixCacheMb = 256;

    /// <summary>The largest prefix cache budget accepted (1 TiB).</summary>
    public const int MaxPrefixCacheMb = 1 << 20;

    /// <summary>MiB of saved prompt KV the replica keeps for reuse by later prompts with the same prefix; 0 turns prefix caching off.</summary>
    public int PrefixCacheMb { get; init; } = DefaultPrefixCacheMb;

    /// <summary>The model ID served; null uses the file's name.</summary>
    public string? ModelName { get; init; }

    /// <summary>The control plane's identity for the process, so adoption can tell its replicas from other processes.</summary>
    public string? ReplicaId { get; init; }

    /// <summary>
    /// A file the replica writes <c>host:port</c> into once it listens, so that whoever started it
    /// on another machine learns the port it picked (with <see cref="Port"/> 0); null writes none.
    /// </summary>
    public string? EndpointFile { get; init; }

    /// <summary>LoRA adapters, <c>name=path[:scale]</c> each, as given (the replica reads them).</summary>
    public IReadOnlyList<string> Adapters { get; init; } = [];

    /// <summary>Where to download the model from when it is not in the node's cache; null when <see cref="ModelPath"/> is there already.</summary>
    public string? ModelUrl { get; init; }

    /// <summary>The model file's SHA-256 (lowercase hex): its key in the cache, checked after a download.</summary>
    public string? ModelSha256 { get; init; }

    /// <summary>The node's model cache, shared by the replicas on it.</summary>
    public string? ModelCache { get; init; }

    /// <summary>The size the cache is pruned to after a download (least recently used files go first); null keeps everything.</summary>
    public long? ModelCacheMaxBytes { get; init; }

    /// <summary>The GGUF file of a draft model proposing tokens for speculative decoding; null for none.</summary>
    public string? DraftModel { get; init; }

    /// <summary>Tokens proposed per step when speculating (<c>--draft-tokens</c>); required with a draft model or n-gram speculation.</summary>
    public int? DraftTokens { get; init; }

    /// <summary>N-gram speculation (prompt lookup): the n-gram length matched (<c>--ngram-speculation</c>); null for none.</summary>
    public int? NgramSpeculation { get; init; }

    /// <summary>Every KV cache type name, in declaration order.</summary>
    public static IReadOnlyList<string> KvCacheTypeNames { get; } = [.. KvCacheTypes.Names];

    /// <summary>The <c>--kv-cache-type</c> name of a precision: "f32" or "f16".</summary>
    public static string KvCacheTypeName(Precision precision) => KvCacheTypes.Name(precision);

    /// <summary>Parses a <c>--kv-cache-type</c> name (exact).</summary>
    public static bool TryParseKvCacheType(string? name, out Precision precision) => KvCacheTypes.TryParse(name, out precision);

    /// <summary>The arguments, starting with <see cref="Verb"/>; nulls and empty lists are left out.</summary>
    public IReadOnlyList<string> Format()
    {
        var args = new List<string> { Verb, Flags.Model, ModelPath, Flags.Host, Host, Flags.Port, Int(Port), Flags.MaxBatchSize, Int(MaxBatchSize) };
        if (ContextSize is { } ctx)
        {
            args.AddRange([Flags.ContextSize, Int(ctx)]);
        }
        args.AddRange([Flags.MaxQueue, Int(MaxQueue)]);
        if (WorldSize is { } threads)
        {
            args.AddRange([Flags.WorldSize, Int(threads)]);
        }
        args.AddRange([Flags.KvCache, KvCacheTypeName(KvCache), Flags.PrefixCacheMb, Int(PrefixCacheMb)]);
        if (ModelName is { } name)
        {
            args.AddRange([Flags.ModelName, name]);
        }
        if (ReplicaId is { } id)
        {
            args.AddRange([Flags.ReplicaId, id]);
        }
        foreach (var adapter in Adapters)
        {
            args.AddRange([Flags.Adapters, adapter]);
        }
        if (ModelUrl is { } url)
        {
            args.AddRange([Flags.ModelUrl, url, Flags.ModelSha256, ModelSha256 ?? "", Flags.ModelCache, ModelCache ?? ""]);
        }
        if (ModelCacheMaxBytes is { } max)
        {
            args.AddRange([Flags.ModelCacheMaxBytes, max.ToString(CultureInfo.InvariantCulture)]);
        }
        if (EndpointFile is { } endpoint)
        {
            args.AddRange([Flags.EndpointFile, endpoint]);
        }
        if (DraftModel is { } draft)
        {
            args.AddRange([Flags.DraftModel, draft]);
        }
        if (NgramSpeculation is { } n)
        {
            args.AddRange([Flags.NgramSpeculation, Int(n)]);
        }
        if (DraftTokens is { } k)
        {
            args.AddRange([Flags.DraftTokens, Int(k)]);
        }
        return args;
    }

    /// <summary>Parses <see cref="Format"/>'s output (the verb first); throws <see cref="ReplicaArgsException"/> naming each bad flag.</summary>
    public static ReplicaArgs Parse(IReadOnlyList<string> args)
        => TryParse(args, out var parsed, out var errors) ? parsed : throw new ReplicaArgsException(errors);

    /// <summary>
    /// Parses <c>replica --flag value ...</c> (also <c>--flag=value</c>); the last of a repeated flag
    /// wins, except <c>--lora</c>, which adds up. On failure, <paramref name="errors"/> says what is
    /// wrong with which flag, all at once.
    /// </summary>
    public static bool TryParse(IReadOnlyList<string> args, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ReplicaArgs? parsed, out IReadOnlyList<ReplicaArgsError> errors)
    {
        parsed = null;
        var found = new List<ReplicaArgsError>();
        errors = found;
        if (args.Count == 0 || args[0] != Verb)
        {
            found.Add(new("", $"expected '{Verb}' first"));
            return false;
        }
        var values = new Dictionary<string, string>();
        var adapters = new List<string>();
        for (var i = 1; i < args.Count; i++)
        {
            var (flag, value) = args[i].IndexOf('=') is var eq and > 0 && args[i].StartsWith("--", StringComparison.Ordinal)
                ? (args[i][..eq], args[i][(eq + 1)..])
                : (args[i], null);
            if (!Flags.All.Contains(flag))
            {
                found.Add(new(flag, $"Unrecognized argument '{args[i]}'."));
                continue;
            }
            if (value is null)
            {
                if (i + 1 >= args.Count)
                {
                    found.Add(new(flag, $"{flag} needs a value."));
                    continue;
                }
                value = args[++i];
            }
            if (flag == Flags.Adapters)
            {
                adapters.Add(value);
            }
            else
            {
                values[flag] = value;
            }
        }

        string? Text(string flag) => values.GetValueOrDefault(flag);
        int Int32(string flag, int fallback, int min, int max) => Number(flag, min, max) ?? fallback;
        int? Number(string flag, int min, int max)
        {
            if (Text(flag) is not { } text)
            {
                return null;
            }
            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n))
            {
                found.Add(new(flag, $"{flag} must be an integer, got '{text}'."));
                return null;
            }
            if (n < min || n > max)
            {
                found.Add(new(flag, max == int.MaxValue ? $"{flag} must be at least {min}, got {n}." : $"{flag} must be between {min} and {max}, got {n}."));
                return null;
            }
            return n;
        }

        var download = Download(Text, found);
        var model = Text(Flags.Model) ?? download?.CachedFile;
        if (model is null && Text(Flags.ModelUrl) is null)
        {
            found.Add(new(Flags.Model, $"Option '{Flags.Model}' is required (or {Flags.ModelUrl} with {Flags.ModelSha256} and {Flags.ModelCache})."));
        }
        else if (model is not null && string.IsNullOrWhiteSpace(model))
        {
            found.Add(new(Flags.Model, $"{Flags.Model} must name a GGUF file."));
        }
        var host = Text(Flags.Host) ?? "127.0.0.1";
        if (string.IsNullOrWhiteSpace(host) || Uri.CheckHostName(host) == UriHostNameType.Unknown)
        {
            found.Add(new(Flags.Host, $"{Flags.Host} must be a host name or IP address, got '{host}'."));
        }
        var kv = Precision.Fp32;
        if (Text(Flags.KvCache) is { } kvText && !TryParseKvCacheType(kvText, out kv))
        {
            found.Add(new(Flags.KvCache, $"{Flags.KvCache} must be {string.Join(" or ", KvCacheTypeNames)}, got '{kvText}'."));
        }
        var modelName = Text(Flags.ModelName);
        if (modelName is not null && string.IsNullOrWhiteSpace(modelName))
        {
            found.Add(new(Flags.ModelName, $"{Flags.ModelName} must not be empty."));
        }
        var endpointFile = Text(Flags.EndpointFile);
        if (endpointFile is not null && string.IsNullOrWhiteSpace(endpointFile))
        {
            found.Add(new(Flags.EndpointFile, $"{Flags.EndpointFile} must name a file."));
        }
        var draftModel = Text(Flags.DraftModel);
        if (draftModel is not null && string.IsNullOrWhiteSpace(draftModel))
        {
            found.Add(new(Flags.DraftModel, $"{Flags.DraftModel} must name a GGUF file."));
        }
        var draftTokens = Number(Flags.DraftTokens, 1, Deployments.Speculation.MaxDraftTokens);
        var ngram = Number(Flags.NgramSpeculation, 1, Deployments.Speculation.MaxNgramLength);
        SpeculationFlags(draftModel, Text(Flags.DraftTokens), Text(Flags.NgramSpeculation), found);
        var result = new ReplicaArgs
        {
            ModelPath = model ?? "",
            Host = host,
            Port = Int32(Flags.Port, 8080, 0, 65535),
            MaxBatchSize = Int32(Flags.MaxBatchSize, 8, 1, 1024),
            ContextSize = Number(Flags.ContextSize, 1, int.MaxValue),
            MaxQueue = Int32(Flags.MaxQueue, 64, 0, 1_000_000),
            WorldSize = Number(Flags.WorldSize, 1, int.MaxValue),
            KvCache = kv,
            PrefixCacheMb = Int32(Flags.PrefixCacheMb, DefaultPrefixCacheMb, 0, MaxPrefixCacheMb),
            ModelName = modelName,
            ReplicaId = Text(Flags.ReplicaId),
            Adapters = adapters,
            ModelUrl = download?.Url,
            ModelSha256 = download?.Sha256,
            ModelCache = download?.Cache,
            ModelCacheMaxBytes = CacheBound(Text(Flags.ModelCacheMaxBytes), found),
            EndpointFile = endpointFile,
            DraftModel = draftModel,
            DraftTokens = draftTokens,
            NgramSpeculation = ngram,
        };
        if (found.Count > 0)
        {
            return false;
        }
        parsed = result;
        return true;
    }

    /// <summary>The download flags, checked together: all three or none. Null when there are none (or they are wrong).</summary>
    private static (string Url, string Sha256, string Cache, string CachedFile)? Download(Func<string, string?> text, List<ReplicaArgsError> found)
    {
        var (url, sha, cache) = (text(Flags.ModelUrl), text(Flags.ModelSha256), text(Flags.ModelCache));
        if (url is null && sha is null && cache is null)
        {
            return null;
        }
        var before = found.Count;
        foreach (var (flag, value) in new[] { (Flags.ModelUrl, url), (Flags.ModelSha256, sha), (Flags.ModelCache, cache) })
        {
            if (value is null)
            {
                found.Add(new(flag, $"{flag} is required with {Flags.ModelUrl}, {Flags.ModelSha256} and {Flags.ModelCache} (a download needs all three)."));
            }
        }
        if (url is not null && !(Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)))
        {
            found.Add(new(Flags.ModelUrl, $"{Flags.ModelUrl} must be an absolute http(s) URL, got '{url}'."));
        }
        if (sha is not null && !ModelCacheLayout.IsSha256(sha))
        {
            found.Add(new(Flags.ModelSha256, $"{Flags.ModelSha256} must be 64 lowercase hex digits, got '{sha}'."));
        }
        if (cache is not null && (cache.Length == 0 || cache[0] != '/'))
        {
            found.Add(new(Flags.ModelCache, $"{Flags.ModelCache} must be an absolute directory path, got '{cache}'."));
        }
        return found.Count > before ? null : (url!, sha!, cache!, ModelCacheLayout.FileFor(cache!, sha!));
    }

    /// <summary>The speculation flags, checked together: a draft model or an n-gram length, not both, each with a token count.</summary>
    private static void SpeculationFlags(string? draftModel, string? draftTokens, string? ngram, List<ReplicaArgsError> found)
    {
        if (draftModel is not null && ngram is not null)
        {
            found.Add(new(Flags.NgramSpeculation, $"{Flags.NgramSpeculation} cannot be used together with {Flags.DraftModel}."));
        }
        if (draftTokens is null && (draftModel is not null || ngram is not null))
        {
            found.Add(new(Flags.DraftTokens, $"{Flags.DraftTokens} is required with {Flags.DraftModel} or {Flags.NgramSpeculation}."));
        }
        if (draftTokens is not null && draftModel is null && ngram is null)
        {
            found.Add(new(Flags.DraftTokens, $"{Flags.DraftTokens} needs {Flags.DraftModel} or {Flags.NgramSpeculation}."));
        }
    }

    private static long? CacheBound(string? text, List<ReplicaArgsError> found)
    {
        if (text is null)
        {
            return null;
        }
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1)
        {
            return n;
        }
        found.Add(new(Flags.ModelCacheMaxBytes, $"{Flags.ModelCacheMaxBytes} must be a whole number of bytes >= 1, got '{text}'."));
        return null;
    }

    /// <summary>
    /// The replica arguments inside a whole process command line (<c>dotnet kiln.dll replica ...</c>),
    /// or null when it is not a well-formed replica command line.
    /// </summary>
    public static ReplicaArgs? FromCommandLine(IReadOnlyList<string> argv)
    {
        var verb = argv.ToList().IndexOf(Verb);
        return verb >= 0 && TryParse([.. argv.Skip(verb)], out var parsed, out _) ? parsed : null;
    }

    /// <inheritdoc />
    public bool Equals(ReplicaArgs? other) => other is not null
        && (ModelPath, Host, Port, MaxBatchSize, ContextSize, MaxQueue, WorldSize, KvCache, ModelName, ReplicaId)
            == (other.ModelPath, other.Host, other.Port, other.MaxBatchSize, other.ContextSize, other.MaxQueue, other.WorldSize, other.KvCache, other.ModelName, other.ReplicaId)
        && (ModelUrl, ModelSha256, ModelCache, ModelCacheMaxBytes) == (other.ModelUrl, other.ModelSha256, other.ModelCache, other.ModelCacheMaxBytes)
        && EndpointFile == other.EndpointFile && PrefixCacheMb == other.PrefixCacheMb && Adapters.SequenceEqual(other.Adapters)
        && (DraftModel, DraftTokens, NgramSpeculation) == (other.DraftModel, other.DraftTokens, other.NgramSpeculation);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(ModelPath, Host, Port, ReplicaId);

    private static string Int(int n) => n.ToString(CultureInfo.InvariantCulture);
}

/// <summary>What is wrong with one flag of a replica command line.</summary>
/// <param name="Flag">The flag, e.g. <c>--port</c> (empty when the command line as a whole is wrong).</param>
/// <param name="Message">A message that names the flag and the bad value.</param>
public sealed record ReplicaArgsError(string Flag, string Message);

/// <summary>A replica command line that does not parse; the message lists every error.</summary>
public sealed class ReplicaArgsException(IReadOnlyList<ReplicaArgsError> errors)
    : FormatException(string.Join("\n", errors.Select(e => e.Message)))
{
    /// <summary>Each bad flag and why.</summary>
    public IReadOnlyList<ReplicaArgsError> Errors { get; } = errors;
}
