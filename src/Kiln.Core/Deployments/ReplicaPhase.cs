using Kiln.Core.Wire;

namespace Kiln.Core.Deployments;

/// <summary>Where one replica is in its life.</summary>
public enum ReplicaPhase
{
    /// <summary>Wanted but not started (waiting for capacity).</summary>
    Pending,
    /// <summary>Process started; loading the model.</summary>
    Initializing,
    /// <summary>Healthy and accepting requests (billing runs from here).</summary>
    Ready,
    /// <summary>Exited or unhealthy; may be restarted.</summary>
    Failed,
    /// <summary>Being shut down.</summary>
    Stopping,
    /// <summary>Process started; fetching its model file from the control plane before loading it.</summary>
    Downloading,
}

/// <summary>Wire names of <see cref="ReplicaPhase"/>: "PENDING", "INITIALIZING", ...</summary>
public static class ReplicaPhases
{
    private static readonly WireTable<ReplicaPhase> Table = new(
        (ReplicaPhase.Pending, "PENDING"),
        (ReplicaPhase.Initializing, "INITIALIZING"),
        (ReplicaPhase.Ready, "READY"),
        (ReplicaPhase.Failed, "FAILED"),
        (ReplicaPhase.Stopping, "STOPPING"),
        (ReplicaPhase.Downloading, "DOWNLOADING"));

    /// <summary>The wire name.</summary>
    public static string ToWireName(this ReplicaPhase phase) => Table.Name(phase);

    /// <summary>Parses a wire name (exact).</summary>
    public static bool TryParse(string? name, out ReplicaPhase phase) => Table.TryParse(name, out phase);
}
