using System.Text.Json.Nodes;
using Kiln.Cli.Api;

namespace Kiln.Cli.Commands;

/// <summary>
/// <c>create model ADDON_ID --base-model BASE --from PATH</c>: create the addon on its base model,
/// then upload the GGUF (one upload) or the PEFT files (<c>?file=</c> each). The server validates
/// the adapter against the base model once it has all of it.
/// </summary>
public sealed class AddonCreate(CommandContext ctx)
{
    public async Task<JsonObject> RunAsync(string modelArgument, string baseModel, string from, string? displayName, CancellationToken ct)
    {
        var source = AddonSource.Detect(from);
        var fullBase = ResourceName.TryParseFull(baseModel, "models", "--base-model");
        var (account, modelId) = await ctx.ResolveAsync(modelArgument, "models", "MODEL_ID", ct);
        var body = new JsonObject
        {
            ["kind"] = "HF_PEFT_ADDON",
            ["baseModel"] = fullBase?.ToString() ?? $"accounts/{account}/models/{baseModel}",
        };
        if (displayName is not null)
            body["displayName"] = displayName;
        await ctx.Client.PostAsync($"{ApiPaths.Models(account)}?modelId={Uri.EscapeDataString(modelId)}", body, ct);

        var upload = new ModelFileUpload(ctx);
        var path = ApiPaths.ModelUpload(account, modelId);
        try
        {
            if (!source.IsPeft)
                return await upload.UploadAsync(path, source.GgufFile!, checkSha256: true, ct);
            await upload.UploadAsync($"{path}?file={AddonSource.ConfigName}", source.PeftConfig!, checkSha256: false, ct);
            // The addon's SHA-256 is its weights file's.
            return await upload.UploadAsync($"{path}?file={AddonSource.WeightsName}", source.PeftWeights!, checkSha256: true, ct);
        }
        catch
        {
            await upload.TryDeleteAsync(account, modelId);
            throw;
        }
    }
}
