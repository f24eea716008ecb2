using Kiln.Engine.Lora;

namespace Kiln.Server.Replica;

/// <summary>A loaded adapter as the replica serves it under its own model name.</summary>
public sealed record AdapterInfo(string Name, string Path, float Scale, int ActiveRequests, bool Unloading);

/// <summary>
/// The replica's adapters by model name. Each request using one holds a lease until the scheduler is
/// done with its sequences; unloading stops new leases at once (404) and unregisters the adapter from
/// the model only when the last lease is gone, so no in-flight request loses its adapter.
/// </summary>
public sealed class AdapterRegistry(IAdapterHost host, string baseModelName)
{
    private readonly object _lock = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly HashSet<string> _loading = new(StringComparer.Ordinal);

    internal sealed class Entry(string name, string path, float scale, int id)
    {
        public string Name { get; } = name;
        public string Path { get; } = path;
        public float Scale { get; } = scale;
        public int Id { get; } = id;
        public LoraSet Set { get; } = LoraSet.Single(id, scale);
        public int Leases { get; set; }
        public bool Unloading { get; set; }
        public TaskCompletionSource Drained { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public Task? Removed { get; set; }
    }

    /// <summary>A request's hold on an adapter; dispose once its sequences are finished.</summary>
    public sealed class Lease : IDisposable
    {
        private readonly AdapterRegistry _owner;
        private readonly Entry _entry;
        private int _released;

        internal Lease(AdapterRegistry owner, Entry entry)
        {
            _owner = owner;
            _entry = entry;
        }

        public string Name => _entry.Name;
        public LoraSet Adapters => _entry.Set;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) _owner.Release(_entry);
        }
    }

    /// <summary>
    /// Loads, validates and registers an adapter. Throws <see cref="ApiException"/>: 409 when the name
    /// is taken, 400 when the file is unreadable or does not fit the base model.
    /// </summary>
    public AdapterInfo Load(string name, string path, float scale)
    {
        if (string.IsNullOrWhiteSpace(name)) throw ApiException.Invalid("An adapter needs a non-empty 'name'.", "name");
        if (!float.IsFinite(scale)) throw ApiException.Invalid("'scale' must be a finite number.", "scale");
        lock (_lock)
        {
            if (name == baseModelName || _entries.ContainsKey(name) || !_loading.Add(name))
                throw new ApiException(409, $"A model named '{name}' is already loaded on this replica.", "invalid_request_error", "name", "adapter_exists");
        }
        try
        {
            LoraAdapter adapter;
            int id;
            try
            {
                adapter = LoraAdapter.Load(path, host.Config);
                id = host.RegisterAdapter(adapter);
            }
            catch (Exception e) when (e is LoraMismatchException or InvalidDataException or NotSupportedException
                or IOException or InvalidOperationException or UnauthorizedAccessException or Kiln.Engine.Gguf.GgufFormatException)
            {
                var code = e is LoraMismatchException ? "adapter_mismatch" : "adapter_invalid";
                throw ApiException.Invalid($"The adapter '{name}' cannot be loaded from {path}: {e.Message}", "path", code);
            }
            lock (_lock) _entries[name] = new Entry(name, path, scale, id);
            return new AdapterInfo(name, path, scale, 0, false);
        }
        finally
        {
            lock (_lock) _loading.Remove(name);
        }
    }

    /// <summary>
    /// A lease on the adapter served as <paramref name="model"/>, or null when no adapter has that
    /// name (the request runs on the base). Throws 404 while the adapter is being unloaded.
    /// </summary>
    public Lease? Acquire(string? model)
    {
        if (model is null) return null;
        lock (_lock)
        {
            if (!_entries.TryGetValue(model, out var e)) return null;
            if (e.Unloading)
                throw new ApiException(404, $"The model '{model}' is being unloaded from this replica.", "invalid_request_error", "model", "model_not_found");
            e.Leases++;
            return new Lease(this, e);
        }
    }

    /// <summary>
    /// Stops new requests for the adapter, then unregisters it once its in-flight requests are done;
    /// the returned task waits for that. Cancelling the wait does not cancel the unload.
    /// </summary>
    public Task UnloadAsync(string name, CancellationToken cancellationToken)
    {
        Task removed;
        lock (_lock)
        {
            if (!_entries.TryGetValue(name, out var e))
                throw new ApiException(404, $"No adapter named '{name}' is loaded on this replica.", "invalid_request_error", "name", "adapter_not_found");
            if (!e.Unloading)
            {
                e.Unloading = true;
                e.Removed = e.Drained.Task.ContinueWith(_ => Remove(e), CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                if (e.Leases == 0) e.Drained.TrySetResult();
            }
            removed = e.Removed!;
        }
        return removed.WaitAsync(cancellationToken);
    }

    private void Remove(Entry e)
    {
        lock (_lock) _entries.Remove(e.Name);
        host.UnregisterAdapter(e.Id);
    }

    public IReadOnlyList<AdapterInfo> List()
    {
        lock (_lock)
            return [.. _entries.Values.OrderBy(e => e.Name, StringComparer.Ordinal)
                .Select(e => new AdapterInfo(e.Name, e.Path, e.Scale, e.Leases, e.Unloading))];
    }

    public AdapterInfo? Find(string name)
    {
        lock (_lock)
            return _entries.TryGetValue(name, out var e) ? new AdapterInfo(e.Name, e.Path, e.Scale, e.Leases, e.Unloading) : null;
    }

    private void Release(Entry e)
    {
        lock (_lock)
        {
            e.Leases--;
            if (e.Unloading && e.Leases == 0) e.Drained.TrySetResult();
        }
    }
}
