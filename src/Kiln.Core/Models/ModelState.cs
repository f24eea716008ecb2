using Kiln.Core.Wire;

namespace Kiln.Core.Models;

/// <summary>A model's state; wire names as Fireworks ("READY", "DEPLOYED").</summary>
public enum ModelState
{
    /// <summary>Unknown.</summary>
    Unspecified,
    /// <summary>Weights are still being imported or uploaded.</summary>
    Uploading,
    /// <summary>Weights are in place; no live deployment serves it.</summary>
    Ready,
    /// <summary>At least one live deployment serves it.</summary>
    Deployed,
}

/// <summary>Wire names of <see cref="ModelState"/> and the derivation of DEPLOYED.</summary>
public static class ModelStates
{
    private static readonly WireTable<ModelState> Table = new(
        (ModelState.Unspecified, "STATE_UNSPECIFIED"),
        (ModelState.Uploading, "UPLOADING"),
        (ModelState.Ready, "READY"),
        (ModelState.Deployed, "DEPLOYED"));

    /// <summary>The wire name.</summary>
    public static string ToWireName(this ModelState state) => Table.Name(state);

    /// <summary>Parses a wire name (exact).</summary>
    public static bool TryParse(string? name, out ModelState state) => Table.TryParse(name, out state);

    /// <summary>
    /// The state to report: the stored state (UPLOADING or READY), raised to DEPLOYED when a
    /// deployment that is not deleting or deleted serves the model. DEPLOYED is never stored.
    /// </summary>
    public static ModelState Derive(ModelState stored, bool hasLiveDeployment) =>
        stored == ModelState.Ready && hasLiveDeployment ? ModelState.Deployed : stored;
}
