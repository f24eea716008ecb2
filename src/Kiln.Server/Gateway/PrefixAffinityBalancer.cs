using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace Kiln.Server.Gateway;

/// <summary>
/// Routes a keyed request to "its" replica by rendezvous (highest random weight) hashing: every
/// replica gets a weight from the key and its ID, and the heaviest wins. Like a hash ring, this is
/// consistent: a replica joining or leaving moves only the keys it wins or held, and every gateway
/// instance picks the same replica without sharing state. Prefix keys are bounded by load (consistent
/// hashing with bounded loads): a replica with <see cref="GatewayOptions.PrefixLoadFactor"/> times the
/// average outstanding requests or more is passed over for the key's next heaviest. Session keys are
/// pinned to their replica while it is READY, whatever its load. Unkeyed requests, and keyed ones
/// with no replica left, go to the least loaded replica.
/// </summary>
public static class PrefixAffinityBalancer
{
    /// <summary>The replica for <paramref name="key"/> among <paramref name="endpoints"/> not in <paramref name="exclude"/>, or null when none is left.</summary>
    public static ReplicaEndpoint? Pick(IReadOnlyList<ReplicaEndpoint> endpoints, RoutingKey key, double loadFactor, IReadOnlyCollection<ReplicaEndpoint>? exclude = null)
    {
        if (key.Hash is not { } hash)
        {
            return LeastOutstandingBalancer.Pick(endpoints, exclude);
        }
        var candidates = 0;
        long total = 0;
        foreach (var e in endpoints)
        {
            if (Excluded(e, exclude))
            {
                continue;
            }
            candidates++;
            total += e.Outstanding;
        }
        if (candidates == 0)
        {
            return null;
        }
        // Capacity per replica: ceil(c * (m + 1) / n) for m requests in flight and this one.
        var capacity = key.Session ? long.MaxValue : (long)Math.Ceiling(loadFactor * (total + 1) / candidates);
        ReplicaEndpoint? best = null;
        ulong bestWeight = 0;
        foreach (var e in endpoints)
        {
            if (Excluded(e, exclude) || e.Outstanding >= capacity)
            {
                continue;
            }
            var w = Weight(hash, e.ReplicaId);
            if (best is null || w > bestWeight)
            {
                best = e;
                bestWeight = w;
            }
        }
        return best ?? LeastOutstandingBalancer.Pick(endpoints, exclude);
    }

    /// <summary>The replica's weight for a key: a hash of its ID seeded with the key.</summary>
    public static ulong Weight(ulong key, string replicaId)
        => XxHash3.HashToUInt64(MemoryMarshal.AsBytes(replicaId.AsSpan()), unchecked((long)key));

    private static bool Excluded(ReplicaEndpoint e, IReadOnlyCollection<ReplicaEndpoint>? exclude) => exclude is { Count: > 0 } && exclude.Contains(e);
}
