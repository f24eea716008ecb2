namespace Kiln.Core.Deployments;

/// <summary>Replica counts by phase, as in Fireworks' <c>replicaStats</c>.</summary>
public sealed record ReplicaStats(int Pending, int Initializing, int Ready, int Failed, int Stopping, int Downloading = 0)
{
    /// <summary>Replicas that exist in any phase.</summary>
    public int Total => Pending + Downloading + Initializing + Ready + Failed + Stopping;

    /// <summary>Counts the given phases.</summary>
    public static ReplicaStats From(IEnumerable<ReplicaPhase> phases)
    {
        int pending = 0, initializing = 0, ready = 0, failed = 0, stopping = 0, downloading = 0;
        foreach (var phase in phases)
        {
            switch (phase)
            {
                case ReplicaPhase.Pending: pending++; break;
                case ReplicaPhase.Initializing: initializing++; break;
                case ReplicaPhase.Ready: ready++; break;
                case ReplicaPhase.Failed: failed++; break;
                case ReplicaPhase.Stopping: stopping++; break;
                case ReplicaPhase.Downloading: downloading++; break;
            }
        }
        return new(pending, initializing, ready, failed, stopping, downloading);
    }
}
