using Kiln.Core.Wire;

namespace Kiln.Core.Deployments;

/// <summary>A deployment's lifecycle state, as Fireworks reports it.</summary>
public enum DeploymentState
{
    /// <summary>Not yet assessed.</summary>
    Unspecified,
    /// <summary>Waiting for the first replica to become ready.</summary>
    Creating,
    /// <summary>Serving (possibly with zero replicas, woken by the next request).</summary>
    Ready,
    /// <summary>Serving while a spec change rolls out.</summary>
    Updating,
    /// <summary>Delete requested; replicas are stopping.</summary>
    Deleting,
    /// <summary>Deleted; kept for a while so that clients can see what happened.</summary>
    Deleted,
    /// <summary>Cannot serve; the status message says why.</summary>
    Failed,
}

/// <summary>Wire names of <see cref="DeploymentState"/>: "STATE_UNSPECIFIED", "CREATING", ...</summary>
public static class DeploymentStates
{
    private static readonly WireTable<DeploymentState> Table = new(
        (DeploymentState.Unspecified, "STATE_UNSPECIFIED"),
        (DeploymentState.Creating, "CREATING"),
        (DeploymentState.Ready, "READY"),
        (DeploymentState.Updating, "UPDATING"),
        (DeploymentState.Deleting, "DELETING"),
        (DeploymentState.Deleted, "DELETED"),
        (DeploymentState.Failed, "FAILED"));

    /// <summary>The wire name.</summary>
    public static string ToWireName(this DeploymentState state) => Table.Name(state);

    /// <summary>Parses a wire name (exact).</summary>
    public static bool TryParse(string? name, out DeploymentState state) => Table.TryParse(name, out state);

    /// <summary>True for DELETING and DELETED: the deployment no longer accepts spec changes.</summary>
    public static bool IsGoingAway(this DeploymentState state) => state is DeploymentState.Deleting or DeploymentState.Deleted;
}
