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
    /// <summary>Live deployments serve it, but none has been READY yet (never stored).</summary>
    Deploying,
    /// <summary>A live deployment that has been READY serves it (never stored).</summary>
    Deployed,
}

/// <summary>Wire names of <see cref="ModelState"/> and the derivation of DEPLOYED.</summary>
public static class ModelStates
{
    private static readonly WireTable<ModelState> Table = new(
        (ModelState.Unspecified, "STATE_UNSPECIFIED"),
        (ModelState.Uploading, "UPLOADING"),
        (ModelState.Ready, "READY"),
        (ModelState.Deploying, "DEPLOYING"),
        (ModelState.Deployed, "DEPLOYED"));

    /// <summary>The wire name.</summary>
    public static string ToWireName(this ModelState state) => Table.Name(state);

    /// <summary>Parses a wire name (exact).</summary>
    public static bool TryParse(string? name, out ModelState state) => Table.TryParse(name, out state);

    /// <summary>
    /// The state to report: the stored state (UPLOADING or READY), raised when deployments that are
    /// not deleting or deleted serve the model: DEPLOYED once one of them has been READY (it stays
    /// READY, or UPDATING, through scale-to-zero and updates), DEPLOYING while they are all still
    /// being created (or have failed). Neither is ever stored.
    /// </summary>
    /// <param name="stored">The stored state.</param>
    /// <param name="serving">The states of the live deployments that serve the model.</param>
    public static ModelState Derive(ModelState stored, IEnumerable<Kiln.Core.Deployments.DeploymentState> serving)
    {
        if (stored != ModelState.Ready)
        {
            return stored;
        }
        var any = false;
        foreach (var state in serving)
        {
            if (state is Kiln.Core.Deployments.DeploymentState.Ready or Kiln.Core.Deployments.DeploymentState.Updating)
            {
                return ModelState.Deployed;
            }
            any = true;
        }
        return any ? ModelState.Deploying : ModelState.Ready;
    }
}
