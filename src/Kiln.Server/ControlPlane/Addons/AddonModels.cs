using Kiln.Core.Errors;
using Kiln.Core.Models;
using Kiln.Core.Names;
using Kiln.Store;

namespace Kiln.Server.ControlPlane.Addons;

/// <summary>The addon side of the models API: creating an addon on its base model and receiving its files.</summary>
public static class AddonModels
{
    /// <summary>
    /// The base model an addon of account <paramref name="account"/> names (a full name or a bare
    /// ID); it must be a READY base model of the same account.
    /// </summary>
    public static async Task<ModelRecord> RequireBaseAsync(IKilnStore store, string account, string? baseModel, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(baseModel))
        {
            throw KilnError.InvalidArgument("baseModel: an addon (HF_PEFT_ADDON) needs the base model it adapts");
        }
        var name = ModelName.FromIdOrName(baseModel, account);
        var model = name.Account == account ? await store.GetModelAsync(account, name.Model, ct) : null;
        if (model is null)
        {
            throw KilnError.InvalidArgument($"baseModel: model {name} does not exist in account {account}");
        }
        if (model.Kind.IsAddon())
        {
            throw KilnError.InvalidArgument($"baseModel: {name} is itself an addon; an addon adapts a base model");
        }
        if (model.State != ModelState.Ready)
        {
            throw KilnError.FailedPrecondition($"baseModel: {name} is {model.State.ToWireName()}; upload its file first");
        }
        return model;
    }

    /// <summary>Receives one upload of an addon and records what it completed.</summary>
    public static async Task<ModelRecord> UploadAsync(IKilnStore store, DataDirectory dir, ModelRecord addon, string? file, Stream body, CancellationToken ct)
    {
        var baseModel = await RequireBaseAsync(store, addon.Account, addon.BaseModel, ct);
        var result = await AddonUpload.ReceiveAsync(body, dir.AddonFolder(addon.Account, addon.Id), file, baseModel.FilePath, baseModel.Name.ToString(), ct);
        if (!result.Complete)
        {
            return addon;
        }
        return await store.UpdateModelAsync(addon with
        {
            FilePath = result.Path,
            Sha256 = result.Sha256,
            SizeBytes = result.SizeBytes,
            Architecture = result.Architecture,
            ContextLength = baseModel.ContextLength,
            State = ModelState.Ready,
        }, ct);
    }
}
