using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Kiln.Cli.Api;
using Kiln.Cli.Formatting;

namespace Kiln.Cli.Commands;

/// <summary>
/// Streams one file to a model's <c>:upload</c> route with progress, and removes a model that was
/// created only to receive files when the upload fails.
/// </summary>
public sealed class ModelFileUpload(CommandContext ctx)
{
    /// <summary>
    /// Uploads <paramref name="path"/> to <paramref name="uploadPath"/> and returns the model the
    /// server answers. With <paramref name="checkSha256"/> the server's SHA-256 must match the bytes sent.
    /// </summary>
    public async Task<JsonObject> UploadAsync(string uploadPath, string path, bool checkSha256, CancellationToken ct)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        var length = file.Length;
        var progress = new TransferProgress(ctx.Err, ctx.Host.StderrIsTerminal, "Uploading", length);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long sent = 0;
        JsonObject model;
        try
        {
            model = await ctx.Client.PutStreamAsync(uploadPath, file, length, chunk =>
            {
                sha.AppendData(chunk.Span);
                sent += chunk.Length;
                progress.Report(sent);
            }, ct);
        }
        catch
        {
            progress.Abort();
            throw;
        }
        progress.Complete(sent);

        var local = Convert.ToHexStringLower(sha.GetHashAndReset());
        var remote = Json.Str(model, "sha256");
        if (checkSha256 && remote.Length > 0 && !remote.Equals(local, StringComparison.OrdinalIgnoreCase))
            throw new CommandFailedException($"the server stored SHA-256 {remote} but kilnctl sent {local}: the upload was corrupted");
        return model;
    }

    /// <summary>Deletes a model this command created, so that a retry can reuse its ID.</summary>
    public async Task TryDeleteAsync(string account, string modelId)
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await ctx.Client.DeleteAsync(ApiPaths.Model(account, modelId), cts.Token);
        }
        catch (Exception e) when (e is KilnApiException or KilnConnectionException or OperationCanceledException)
        {
            ctx.Err.WriteLine($"kilnctl: could not remove the half-imported model {modelId}: {e.Message}");
        }
    }
}
