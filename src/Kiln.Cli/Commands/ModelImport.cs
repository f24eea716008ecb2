using System.Text.Json.Nodes;
using Kiln.Cli.Api;
using Kiln.Core.ModelSources;

namespace Kiln.Cli.Commands;

/// <summary>
/// <c>import model</c>. The source decides who fetches the weights (<see cref="ModelSource"/>): a
/// local file is checked, streamed to the model's <c>:upload</c> route and its SHA-256 compared with
/// the server's; a URL, an <c>hf://</c> file or a catalog ID is handed to the server, which downloads
/// it (resuming after interruptions and checking its digest) while the model is DOWNLOADING.
/// </summary>
public sealed class ModelImport(CommandContext ctx)
{
    private static ReadOnlySpan<byte> GgufMagic => "GGUF"u8;

    /// <summary>What to import and how.</summary>
    /// <param name="ModelArgument">MODEL_ID or its full name.</param>
    /// <param name="From">--from; null imports the catalog model named by the model ID, as <c>firectl import model ID</c> does.</param>
    /// <param name="DisplayName">--display-name.</param>
    /// <param name="Sha256">--sha256: the digest a download must have.</param>
    /// <param name="WaitNanos">--wait's timeout (0 waits forever), or null not to wait for a download.</param>
    public sealed record Request(string ModelArgument, string? From, string? DisplayName, string? Sha256, long? WaitNanos);

    public async Task<JsonObject> RunAsync(Request request, CancellationToken ct)
    {
        var (account, modelId) = await ctx.ResolveAsync(request.ModelArgument, "models", "MODEL_ID", ct);
        if (!ModelSource.TryParse(request.From ?? modelId, out var source, out var error))
            throw new UsageException($"--from: {error}");
        if (request.From is null && source.Kind != ModelSourceKind.Catalog)
            throw new UsageException($"--from is required: \"{modelId}\" is not a catalog ID (kilnctl list catalog shows them)");
        if (request.Sha256 is { } sha && !(sha.Length == 64 && sha.All(char.IsAsciiHexDigit)))
            throw new UsageException($"--sha256: must be 64 hex digits, got \"{sha}\"");
        if (source.Kind == ModelSourceKind.LocalPath)
        {
            if (request.Sha256 is not null)
                throw new UsageException("--sha256: only for downloads (a URL, hf:// or a catalog ID); an upload is checked against the bytes sent");
            return await UploadAsync(account, modelId, source.Text, request.DisplayName, ct);
        }

        var body = new JsonObject { ["source"] = source.Text };
        if (request.DisplayName is not null)
            body["displayName"] = request.DisplayName;
        if (request.Sha256 is not null)
            body["sha256"] = request.Sha256.ToLowerInvariant();
        var model = await ctx.Client.PostAsync($"{ApiPaths.Models(account)}?modelId={Uri.EscapeDataString(modelId)}", body, ct);
        if (request.WaitNanos is { } timeout)
            return await new ModelWaiter(ctx).WaitAsync(account, modelId, timeout, ct);
        ctx.Err.WriteLine($"The server is downloading the model; follow it with: kilnctl get model {modelId} (or import with --wait)");
        return model;
    }

    private async Task<JsonObject> UploadAsync(string account, string modelId, string path, string? displayName, CancellationToken ct)
    {
        CheckGguf(path);
        var body = new JsonObject();
        if (displayName is not null)
            body["displayName"] = displayName;
        await ctx.Client.PostAsync($"{ApiPaths.Models(account)}?modelId={Uri.EscapeDataString(modelId)}", body, ct);
        try
        {
            return await new ModelFileUpload(ctx).UploadAsync(ApiPaths.ModelUpload(account, modelId), path, checkSha256: true, ct);
        }
        catch
        {
            // The model was created by this command; without its file it is useless and would
            // block a retry under the same ID.
            await new ModelFileUpload(ctx).TryDeleteAsync(account, modelId);
            throw;
        }
    }

    private static void CheckGguf(string path)
    {
        if (Directory.Exists(path))
            throw new UsageException($"--from: \"{path}\" is a folder; a base model is imported from one .gguf file");
        Span<byte> magic = stackalloc byte[4];
        try
        {
            using var file = File.OpenRead(path);
            if (file.ReadAtLeast(magic, 4, throwOnEndOfStream: false) == 4 && magic.SequenceEqual(GgufMagic))
                return;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new UsageException($"--from: file \"{path}\" not found");
        }
        throw new UsageException($"--from: \"{path}\" is not a GGUF file (it does not start with the GGUF magic bytes)");
    }
}
