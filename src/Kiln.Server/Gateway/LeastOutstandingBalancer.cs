namespace Kiln.Server.Gateway;

/// <summary>
/// Picks the replica with the fewest unfinished requests. Ties go round-robin from a rotating
/// start, so equal replicas share a burst instead of the first one taking it all.
/// </summary>
public static class LeastOutstandingBalancer
{
    private static uint _rotation;

    /// <summary>
    /// The least loaded endpoint not in <paramref name="exclude"/>, or null when none is left. Endpoints
    /// are compared as instances: a replica that left the READY set and came back (restarted in place,
    /// under the same ID) is a new endpoint, so a request that failed on its old process may go to it.
    /// </summary>
    public static ReplicaEndpoint? Pick(IReadOnlyList<ReplicaEndpoint> endpoints, IReadOnlyCollection<ReplicaEndpoint>? exclude = null)
    {
        var n = endpoints.Count;
        if (n == 0)
        {
            return null;
        }
        var start = (int)(Interlocked.Increment(ref _rotation) % (uint)n);
        ReplicaEndpoint? best = null;
        var bestLoad = int.MaxValue;
        for (var i = 0; i < n; i++)
        {
            var e = endpoints[(start + i) % n];
            if (exclude is { Count: > 0 } && exclude.Contains(e))
            {
                continue;
            }
            var load = e.Outstanding;
            if (load < bestLoad)
            {
                best = e;
                bestLoad = load;
            }
        }
        return best;
    }
}
