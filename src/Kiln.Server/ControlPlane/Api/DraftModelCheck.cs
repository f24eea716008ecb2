using Kiln.Core.Deployments;
using Kiln.Core.Errors;
using Kiln.Core.Models;
using Kiln.Core.Names;
using Kiln.Engine.Gguf;
using Kiln.Store;

namespace Kiln.Server.ControlPlane.Api;

/// <summary>
/// A deployment's draft model must be a READY model of the same account whose tokenizer is the
/// target's, token for token: the target verifies the draft's token IDs as its own.
/// </summary>
internal static class DraftModelCheck
{
    /// <summary>A bare model ID means a model of the caller's account, as for baseModel.</summary>
    public static DeploymentSpecPatch Qualify(DeploymentSpecPatch patch, string account) =>
        patch.DraftModel is { Length: > 0 } dm && !dm.Contains('/') && ResourceNames.IsValidId(dm)
            ? patch with { DraftModel = new ModelName(account, dm).ToString() }
            : patch;

    /// <summary>Throws INVALID_ARGUMENT (or NOT_FOUND) saying why <paramref name="spec"/>'s draft model cannot serve <paramref name="target"/>.</summary>
    public static async Task RequireAsync(IKilnStore store, string account, DeploymentSpec spec, ModelRecord target, CancellationToken ct)
    {
        if (spec.DraftModel is null) return;
        var name = ModelName.Parse(spec.DraftModel);
        var draft = name.Account == account ? await store.GetModelAsync(account, name.Model, ct) : null;
        if (draft is null)
        {
            throw KilnError.NotFound("model", name.ToString());
        }
        if (draft.State != ModelState.Ready)
        {
            throw KilnError.FailedPrecondition($"draft model {name} is {draft.State.ToWireName()}: upload its file first");
        }
        if (draft.Kind.IsAddon())
        {
            throw KilnError.InvalidArgument([new FieldViolation("draftModel", $"{name} is an addon; a draft model is a whole model (deploy its base as the draft)")]);
        }
        var targetFile = await TokenizerFileAsync(store, target, ct);
        if (Mismatch(draft.FilePath, targetFile) is { } reason)
        {
            throw KilnError.InvalidArgument([new FieldViolation("draftModel",
                $"{name} cannot draft for {spec.BaseModel}: {reason}; a draft model must use the same tokenizer as the deployed model")]);
        }
    }

    // An addon speaks its base model's tokenizer.
    private static async Task<string> TokenizerFileAsync(IKilnStore store, ModelRecord model, CancellationToken ct)
    {
        if (!model.Kind.IsAddon() || model.BaseModel is null) return model.FilePath;
        var baseName = ModelName.Parse(model.BaseModel);
        return (await store.GetModelAsync(baseName.Account, baseName.Model, ct))?.FilePath ?? model.FilePath;
    }

    /// <summary>How the two files' vocabularies differ, or null when they are the same.</summary>
    internal static string? Mismatch(string draftFile, string targetFile)
    {
        try
        {
            using var draft = GgufFile.Open(draftFile);
            using var target = GgufFile.Open(targetFile);
            var (dm, tm) = (draft.GetString("tokenizer.ggml.model"), target.GetString("tokenizer.ggml.model"));
            if (dm != tm) return $"its tokenizer is '{dm}', the deployed model's is '{tm}'";
            var d = draft.GetArray<string>("tokenizer.ggml.tokens") ?? [];
            var t = target.GetArray<string>("tokenizer.ggml.tokens") ?? [];
            if (d.Length != t.Length) return $"its vocabulary has {d.Length} tokens, the deployed model's has {t.Length}";
            for (var i = 0; i < d.Length; i++)
            {
                if (d[i] != t[i]) return $"token {i} is '{d[i]}' in it and '{t[i]}' in the deployed model";
            }
            return null;
        }
        catch (Exception e) when (e is IOException or GgufFormatException or UnauthorizedAccessException)
        {
            return $"its vocabulary could not be read ({e.Message})";
        }
    }
}
