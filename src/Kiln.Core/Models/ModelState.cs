using Kiln.Core.Wire;

namespace Kiln.Core.Models;

/// <summary>A model's state; wire names as Fireworks ("READY", "DEPLOYED").</summary>
public enum ModelState
{
    /// <summary>Unknown.</summary>
    Unspecified,
    /// <summary>Weights are still being uploaded by a client.</summary>
    Uploading,
    /// <summary>The server is downloading the weights from the model's source (a URL, hf:// or the catalog).</summary>
    Downloading,
    /// <summary>The download or import failed for good; the status message says why. Delete the model to try again.</summary>
    Failed,
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
        (ModelState.Downloading, "DOWNLOADING"),
        (ModelState.Failed, "FAILED"),
        (ModelState.Ready, "READY"),
        (ModelState.Deploying, "DEPLOYING"),
        (ModelState.Deployed, "DEPLOYED"));

    /// <summary>The wire name.</summary>
    public static string ToWireName(this ModelState state) => Table.Name(state);

    /// <summary>Whether a model is stored in this state (DEPLOYING and DEPLOYED are derived).</summary>
    public static bool IsStored(this ModelState state) =>
        state is ModelState.Uploading or ModelState.Downloading or ModelState.Failed or ModelState.Ready;

    /// <summary>Parses a wire name (exact).</summary>
    public static bool TryParse(string? name, out ModelState state) => Table.TryParse(name, out state);

    /// <summary>
    /// The state to report: the stored state (UPLOADING, DOWNLOADING, FAILED or READY), raised when deployments that are
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
