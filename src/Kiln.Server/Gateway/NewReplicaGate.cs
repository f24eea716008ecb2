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
    /// True when the last refresh left a READY replica out: the next one has to read the tables again
    /// even if nothing in them changed, to route to it once its connections are open.
    /// </summary>
    public bool HoldsBack { get; private set; }

    /// <summary>
    /// True when <paramref name="id"/> at <paramref name="uri"/> may be routed to now; the first time
    /// a new one is seen, starts opening <paramref name="connections"/> connections to it, and when
    /// that is done (or failed) calls back for a refresh that then routes to it.
    /// </summary>
    public bool Routable(string id, Uri uri, int connections)
    {
        if (!_replicas.TryGetValue(id, out var known) || !(ReferenceEquals(known.Uri, uri) || known.Uri == uri))
        {
            known = (uri, _started ? Open(uri, connections) : Task.CompletedTask);
            _replicas[id] = known;
        }
        HoldsBack |= !known.Opened.IsCompleted;
        return known.Opened.IsCompleted;
    }

    /// <summary>Starts a refresh that reads every READY replica.</summary>
    public void BeginRefresh() => HoldsBack = false;

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

    private Task Open(Uri uri, int connections)
    {
        var opening = open(uri, connections);
        // The callback runs once the task has completed, so the refresh it asks for sees it completed.
        _ = opening.ContinueWith(static (t, callback) =>
        {
            _ = t.Exception; // a failed opening still ends the wait
            ((Action)callback!)();
        }, opened, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return opening;
    }
}
