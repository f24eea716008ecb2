using Kiln.Core.Wire;

namespace Kiln.Core.Models;

/// <summary>Where an addon stands on a deployment; wire names as Fireworks' deployedModels.</summary>
public enum DeployedModelState
{
    /// <summary>Requested; not yet loaded on every ready replica.</summary>
    Deploying,
    /// <summary>Loaded on every ready replica (and loaded on new ones before they count as ready).</summary>
    Deployed,
    /// <summary>Undeploy requested: replicas unload it (draining its requests), then the record goes.</summary>
    Undeploying,
}

/// <summary>Wire names of <see cref="DeployedModelState"/>.</summary>
public static class DeployedModelStates
{
    private static readonly WireTable<DeployedModelState> Table = new(
        (DeployedModelState.Deploying, "DEPLOYING"),
        (DeployedModelState.Deployed, "DEPLOYED"),
        (DeployedModelState.Undeploying, "UNDEPLOYING"));

    /// <summary>The wire name.</summary>
    public static string ToWireName(this DeployedModelState state) => Table.Name(state);

    /// <summary>Parses a wire name (exact).</summary>
    public static bool TryParse(string? name, out DeployedModelState state) => Table.TryParse(name, out state);
}
