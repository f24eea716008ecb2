using Kiln.Core.Deployments;
using Kiln.Core.Engines;
using Kiln.Core.Errors;
using Kiln.Core.Models;
using Kiln.Store;

namespace Kiln.Server.ControlPlane.Api;

/// <summary>Whether a deployment's engine can serve its model (and its addons) on this server.</summary>
public static class EngineChoice
{
    /// <summary>The deployment's profile; INVALID_ARGUMENT naming the problem when the engine is unknown, cannot read the model's format or cannot take addons it enables.</summary>
    public static EngineProfile Require(EngineCatalog engines, DeploymentSpec spec, ModelRecord model)
    {
        var profile = engines.Find(spec.Engine)
            ?? throw KilnError.InvalidArgument($"engine: unknown engine \"{spec.Engine}\"; this server offers {string.Join(", ", engines.Names)}");
        // An addon deployed on its own is served merged into its base's GGUF file.
        var format = model.Kind.IsAddon() ? ModelFormat.Gguf : model.Format;
        if (!profile.ModelFormats.Contains(format))
        {
            throw KilnError.InvalidArgument(
                $"engine: {profile.Name} serves {string.Join(" or ", profile.ModelFormats.Select(f => f.ToWireName()))} models, but {model.Name} is {format.ToWireName()}"
                + (format == ModelFormat.Gguf ? " (import a Hugging Face folder with config.json and *.safetensors for it)" : " (use engine kiln or llama-server for GGUF)"));
        }
        if (spec.EnableAddons)
        {
            RequireAddons(profile);
        }
        return profile;
    }

    /// <summary>INVALID_ARGUMENT with the engine's reason when it cannot load addons at runtime.</summary>
    public static void RequireAddons(EngineProfile profile)
    {
        if (!profile.Addons.Supported)
        {
            throw KilnError.InvalidArgument($"enableAddons: engine {profile.Name} cannot load addons at runtime: {profile.Addons.Reason}");
        }
    }
}
