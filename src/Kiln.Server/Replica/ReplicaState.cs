using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;

namespace Kiln.Server.Replica;

/// <summary>What the endpoints share: options, and the model once (or if) it has loaded.</summary>
internal sealed class ReplicaState(ReplicaOptions options)
{
    private volatile ModelSession? _session;
    private volatile ModelSession? _warming;
    private volatile string? _loadError;
    private volatile Kiln.Core.Replicas.DownloadProgress? _download;

    public ReplicaOptions Options { get; } = options;
    public string ModelName { get; } = options.ServedModelName;
    public long Created { get; } = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    public ModelSession? Session => _session;
    public UsageLedger Ledger { get; } = new();
    public string? LoadError => _loadError;

    /// <summary>How far the model's download has got, while it runs; null otherwise.</summary>
    public Kiln.Core.Replicas.DownloadProgress? Download => _download;

    public void Loaded(ModelSession session) => _session = session;

    /// <summary>The key the replica's own warm-up requests carry in <see cref="HttpWarmup.KeyHeader"/>.</summary>
    public string WarmupKey { get; } = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));

    /// <summary>Serves the warm-up's requests (only those) from <paramref name="session"/> before the replica is ready; null ends it.</summary>
    public void Warming(ModelSession? session) => _warming = session;

    /// <summary>What the warm-up through the replica's own endpoints did; null until it has run.</summary>
    public HttpWarmupReport? HttpWarmupReport { get; set; }

    /// <summary>Whether the request is one of the replica's own warm-up requests.</summary>
    public bool IsWarmup(HttpContext ctx) =>
        ctx.Request.Headers.TryGetValue(HttpWarmup.KeyHeader, out var key) && key.Count == 1 &&
        CryptographicOperations.FixedTimeEquals(System.Text.Encoding.ASCII.GetBytes(key.ToString()), System.Text.Encoding.ASCII.GetBytes(WarmupKey));
    public void Failed(string error) => _loadError = error;
    /// <summary>The replica's lease on its cached model file, held while it runs so the node's pruner leaves the file alone.</summary>
    public IDisposable? ModelLease { get; set; }

    public void Downloading(Kiln.Core.Replicas.DownloadProgress? progress) => _download = progress;

    /// <summary>The session, or a 503 saying why there is none; the warm-up's requests get the warm-up's session.</summary>
    public ModelSession RequireSession(HttpContext ctx) => _session ?? (_warming is { } warming && IsWarmup(ctx) ? warming : RequireSession());

    /// <summary>The session, or a 503 saying why there is none.</summary>
    public ModelSession RequireSession() => _session ?? throw new ApiException(503,
        _loadError is not null ? $"The model failed to load: {_loadError}"
            : _download is { } d ? $"The model is downloading ({d.Describe()}); retry shortly."
            : "The model is still loading; retry shortly.",
        "server_error", code: _loadError is not null ? "model_load_failed" : _download is not null ? "model_downloading" : "model_loading");
}
