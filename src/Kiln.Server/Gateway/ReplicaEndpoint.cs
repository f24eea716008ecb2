using System.Collections.Concurrent;

namespace Kiln.Server.Gateway;

/// <summary>A READY replica the gateway may send requests to, with its count of unfinished ones.</summary>
public sealed class ReplicaEndpoint(string replicaId, Uri baseUri)
{
    private int _outstanding;

    /// <summary>The replica's ID.</summary>
    public string ReplicaId { get; } = replicaId;

    /// <summary><c>http://host:port/</c>.</summary>
    public Uri BaseUri { get; } = baseUri;

    // A handful of paths per replica (the forwarded routes, the autoscaler's "metrics"): parsing a Uri
    // for every request or scrape costs more than the lookup.
    private readonly ConcurrentDictionary<string, Uri> _uris = new(StringComparer.Ordinal);

    /// <summary>The replica's URI for <paramref name="path"/> (e.g. "v1/completions").</summary>
    public Uri For(string path) => _uris.GetOrAdd(path, static (p, b) => new Uri(b, p), BaseUri);

    /// <summary>Requests sent to it that have not finished.</summary>
    public int Outstanding => Volatile.Read(ref _outstanding);

    /// <summary>Counts a request in.</summary>
    public void Begin() => Interlocked.Increment(ref _outstanding);

    /// <summary>Counts a request out.</summary>
    public void End() => Interlocked.Decrement(ref _outstanding);
}
