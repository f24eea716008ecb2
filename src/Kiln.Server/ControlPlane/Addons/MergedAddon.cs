using Kiln.Core.Errors;
using Kiln.Core.Models;
using Kiln.Engine.Lora;
using Kiln.Engine.Models;
using Kiln.Engine.Gguf;
using Kiln.Store;

namespace Kiln.Server.ControlPlane.Addons;

/// <summary>
/// A deployment of a single addon runs its base model with the adapter merged into the weights
/// (Fireworks' "live merge"): same outputs, base-model speed. The merged file is written once,
/// beside the addon's own files, and shared by every deployment of it.
/// </summary>
/// <remarks>
/// The reconciler's pass is its one caller: the file is a cache of what the store says, needed
/// where replicas start, so the control plane that starts them writes it, after a restart or on a
/// fresh disk too. Once written, each pass costs a file check.
/// </remarks>
public static class MergedAddon
{
    /// <summary>The merged model's file name in the addon's folder.</summary>
    public const string FileName = "merged.gguf";

    /// <summary>
    /// Refuses, as <see cref="EnsureAsync"/> would, an addon that is not uploaded or cannot be merged
    /// into its base, without writing anything: the API answers with this before the reconciler merges.
    /// </summary>
    public static async Task CheckAsync(IKilnStore store, ModelRecord addon, CancellationToken ct)
    {
        RequireUploaded(addon);
        var baseModel = await AddonModels.RequireBaseAsync(store, addon.Account, addon.BaseModel, ct);
        await Task.Run(() => Refusing(addon, () =>
        {
            using var file = GgufFile.Open(baseModel.FilePath);
            LoraMerge.Check(baseModel.FilePath, [(LoraAdapter.Load(addon.FilePath, ModelConfig.FromGguf(file)), 1f)]);
        }), ct);
    }

    /// <summary>The merged model of <paramref name="addon"/>, written if missing; INVALID_ARGUMENT when the base cannot be merged into.</summary>
    public static async Task<string> EnsureAsync(IKilnStore store, DataDirectory dir, ModelRecord addon, CancellationToken ct)
    {
        RequireUploaded(addon);
        var path = Path.Combine(dir.AddonFolder(addon.Account, addon.Id), FileName);
        if (File.Exists(path))
        {
            return path;
        }
        var baseModel = await AddonModels.RequireBaseAsync(store, addon.Account, addon.BaseModel, ct);
        var temp = Path.Combine(Path.GetDirectoryName(path)!, $".{FileName}.{Guid.NewGuid():N}.part");
        try
        {
            await Task.Run(() => Write(baseModel.FilePath, addon, temp), ct);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
        return path;
    }

    private static void RequireUploaded(ModelRecord addon)
    {
        if (addon.State != ModelState.Ready)
        {
            throw KilnError.FailedPrecondition($"addon {addon.Name} is {addon.State.ToWireName()}; upload its files before deploying it");
        }
    }

    private static void Write(string basePath, ModelRecord addon, string output)
    {
        ModelConfig config;
        using (var file = GgufFile.Open(basePath))
        {
            config = ModelConfig.FromGguf(file);
        }
        Refusing(addon, () => LoraMerge.Write(basePath, output, [(LoraAdapter.Load(addon.FilePath, config), 1f)]));
    }

    private static void Refusing(ModelRecord addon, Action merge)
    {
        try
        {
            merge();
        }
        catch (NotSupportedException e)
        {
            throw KilnError.InvalidArgument(
                $"addon {addon.Name} cannot be merged into base model {addon.BaseModel}: {e.Message}; deploy the base with --enable-addons and the addon onto it instead");
        }
    }
}
