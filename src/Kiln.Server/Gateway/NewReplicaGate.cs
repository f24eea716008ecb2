namespace Kiln.Server.Gateway;

/// <summary>
/// Decides which READY replicas the routing table may route to. A replica that becomes READY while
/// the gateway runs (a wake from zero, a scale-up) is held back until the gateway's connections to
/// it are open, so the held requests and the first burst find them pooled; those READY when the
/// gateway starts are routed to at once. Used by one refresh at a time.
/// </summary>
public sealed class NewReplicaGate(Func<Uri, int, Task> open, Action opened)
{
    // By replica ID; a replica that moved to another address is new again.
    private readonly Dictionary<string, (Uri Uri, Task Opened)> _replicas = new(StringComparer.Ordinal);
    private bool _started;

    /// <summary>
    /// True when <paramref name="id"/> at <paramref name="uri"/> may be routed to now; the first time
    /// a new one is seen, starts opening <paramref name="connections"/> connections to it, and when
    /// that is done calls back for a refresh that then routes to it.
    /// </summary>
    public bool Routable(string id, Uri uri, int connections)
    {
        if (_replicas.TryGetValue(id, out var known) && (ReferenceEquals(known.Uri, uri) || known.Uri == uri))
        {
            return known.Opened.IsCompleted;
        }
        if (!_started)
        {
            _replicas[id] = (uri, Task.CompletedTask);
            return true;
        }
        var opening = OpenThenCallBackAsync(uri, connections);
        _replicas[id] = (uri, opening);
        return opening.IsCompleted;
    }

    /// <summary>Ends a refresh: after the first, replicas seen are new.</summary>
    public void EndRefresh() => _started = true;

    /// <summary>Forgets the replicas no longer READY (called now and then, not on every refresh).</summary>
    public void Forget(IReadOnlySet<string> readyIds)
    {
        foreach (var id in _replicas.Keys.Where(id => !readyIds.Contains(id)).ToList())
        {
            _replicas.Remove(id);
        }
    }

    private async Task OpenThenCallBackAsync(Uri uri, int connections)
    {
        try
        {
            await open(uri, connections);
        }
        finally
        {
            opened();
        }
    }
}
