using System.Text.Json.Nodes;
using Kiln.Cli.Api;
using Kiln.Cli.Formatting;

namespace Kiln.Cli.Commands;

/// <summary>
/// <c>import model</c>: fetch the GGUF (downloading a URL to a temporary file first), create the
/// model, stream the file to it, and check the server's SHA-256 against the bytes actually sent.
/// </summary>
public sealed class ModelImport(CommandContext ctx)
{
    private static ReadOnlySpan<byte> GgufMagic => "GGUF"u8;

    public async Task<JsonObject> RunAsync(string modelArgument, string from, string? displayName, CancellationToken ct)
    {
        var (account, modelId) = await ctx.ResolveAsync(modelArgument, "models", "MODEL_ID", ct);
        string? temporary = null;
        try
        {
            string path;
            if (IsUrl(from, out var url))
                path = temporary = await DownloadAsync(url, ct);
            else
                path = from;
            CheckGguf(path, from);

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
        finally
        {
            if (temporary is not null)
                File.Delete(temporary);
        }
    }

    private static bool IsUrl(string from, out Uri url)
    {
        url = null!;
        return (from.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
                || from.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
               && Uri.TryCreate(from, UriKind.Absolute, out url!);
    }

    private async Task<string> DownloadAsync(Uri url, CancellationToken ct)
    {
        var temporary = Path.Combine(ctx.Host.TempDirectory, $"kiln-import-{Guid.NewGuid():N}.gguf");
        TransferProgress? progress = null;
        try
        {
            await using var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
            var bytes = await new FileDownloader(ctx.Host.HttpHandler).DownloadAsync(url, file,
                total => progress = new TransferProgress(ctx.Err, ctx.Host.StderrIsTerminal, "Downloading", total),
                received => progress?.Report(received), ct);
            progress?.Complete(bytes);
            return temporary;
        }
        catch
        {
            progress?.Abort();
            File.Delete(temporary);
            throw;
        }
    }

    private static void CheckGguf(string path, string from)
    {
        Span<byte> magic = stackalloc byte[4];
        try
        {
            using var file = File.OpenRead(path);
            if (file.ReadAtLeast(magic, 4, throwOnEndOfStream: false) == 4 && magic.SequenceEqual(GgufMagic))
                return;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new UsageException($"--from: file \"{from}\" not found");
        }
        throw new UsageException($"--from: \"{from}\" is not a GGUF file (it does not start with the GGUF magic bytes)");
    }
}
