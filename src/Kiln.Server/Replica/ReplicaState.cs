namespace Kiln.Server.Replica;

/// <summary>What the endpoints share: options, and the model once (or if) it has loaded.</summary>
internal sealed class ReplicaState(ReplicaOptions options)
{
    private volatile ModelSession? _session;
    private volatile string? _loadError;

    public ReplicaOptions Options { get; } = options;
    public string ModelName { get; } = options.ServedModelName;
    public long Created { get; } = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    public ModelSession? Session => _session;
    public UsageLedger Ledger { get; } = new();
    public string? LoadError => _loadError;

    public void Loaded(ModelSession session) => _session = session;
    public void Failed(string error) => _loadError = error;

    /// <summary>The session, or a 503 saying why there is none.</summary>
    public ModelSession RequireSession() => _session ?? throw new ApiException(503,
        _loadError is null ? "The model is still loading; retry shortly." : $"The model failed to load: {_loadError}",
        "server_error", code: _loadError is null ? "model_loading" : "model_load_failed");
}
