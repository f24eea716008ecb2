using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json.Nodes;
using Kiln.Cli.Api;
using Kiln.Core.ModelFiles;

namespace Kiln.Cli.Commands;

/// <summary>
/// <c>import model --from FOLDER|ARCHIVE.tar[.gz]</c> for a Hugging Face model: checks config.json
/// and every safetensors header here (architecture, dtype, size; no tensor is read), creates the
/// model as HF_SAFETENSORS, uploads each file (<c>?file=</c>), then asks the server to check the
/// folder again and make it READY (<c>:validateUpload</c>).
/// </summary>
public sealed class HfModelImport(CommandContext ctx)
{
    /// <summary>True when <paramref name="from"/> names a folder or a tar archive rather than a GGUF file or URL.</summary>
    public static bool Applies(string from) =>
        Directory.Exists(from) || from.EndsWith(".tar", StringComparison.OrdinalIgnoreCase)
        || from.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase) || from.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase);

    public async Task<JsonObject> RunAsync(string modelArgument, string from, string? displayName, CancellationToken ct)
    {
        var (account, modelId) = await ctx.ResolveAsync(modelArgument, "models", "MODEL_ID", ct);
        string? extracted = null;
        try
        {
            var folder = Directory.Exists(from) ? from : extracted = Extract(from);
            var files = new FolderFiles(folder);
            HfModelFacts facts;
            try
            {
                facts = HfModelFolder.Inspect(files);
            }
            catch (HfModelException e)
            {
                throw new UsageException($"--from: \"{from}\" is not a Hugging Face model folder: {e.Message}");
            }
            ctx.Err.WriteLine($"{from}: {facts.Architecture}, {facts.Dtype}, {facts.Parameters:N0} parameters, {Formatting.ByteSize.Format(facts.WeightBytes)} of weights in {files.Names.Count} file(s)");

            var body = new JsonObject { ["format"] = "HF_SAFETENSORS" };
            if (displayName is not null)
                body["displayName"] = displayName;
            await ctx.Client.PostAsync($"{ApiPaths.Models(account)}?modelId={Uri.EscapeDataString(modelId)}", body, ct);
            var upload = new ModelFileUpload(ctx);
            try
            {
                foreach (var name in files.Names)
                    await upload.UploadAsync($"{ApiPaths.ModelUpload(account, modelId)}?file={Uri.EscapeDataString(name)}", Path.Combine(folder, name), checkSha256: true, ct);
                return await ctx.Client.PostAsync($"{ApiPaths.Model(account, modelId)}:validateUpload", new JsonObject(), ct);
            }
            catch
            {
                await upload.TryDeleteAsync(account, modelId);
                throw;
            }
        }
        finally
        {
            if (extracted is not null)
                Directory.Delete(extracted, recursive: true);
        }
    }

    /// <summary>Unpacks an archive into a fresh temporary folder; a model's files may sit in one top-level folder of it.</summary>
    private string Extract(string archive)
    {
        var target = Path.Combine(ctx.Host.TempDirectory, $"kiln-import-{Guid.NewGuid():N}");
        Directory.CreateDirectory(target);
        try
        {
            using var file = File.OpenRead(archive);
            using Stream stream = archive.EndsWith(".tar", StringComparison.OrdinalIgnoreCase) ? file : new GZipStream(file, CompressionMode.Decompress);
            TarFile.ExtractToDirectory(stream, target, overwriteFiles: false);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            Directory.Delete(target, recursive: true);
            throw new UsageException(e is FileNotFoundException or DirectoryNotFoundException
                ? $"--from: \"{archive}\" not found"
                : $"--from: \"{archive}\" is not a readable tar archive: {e.Message}");
        }
        var dirs = Directory.GetDirectories(target);
        return Directory.GetFiles(target).Length == 0 && dirs.Length == 1 ? dirs[0] : target;
    }

    /// <summary>The folder's plain files (hidden files and subfolders are not part of a model).</summary>
    private sealed class FolderFiles(string folder) : IModelFolderFiles
    {
        public IReadOnlyList<string> Names { get; } =
            [.. new DirectoryInfo(folder).EnumerateFiles().Select(f => f.Name).Where(HfModelFolder.IsFileName).Order(StringComparer.Ordinal)];

        public long Size(string name) => new FileInfo(Path.Combine(folder, name)).Length;

        public byte[] Read(string name, long offset, int count)
        {
            using var stream = new FileStream(Path.Combine(folder, name), FileMode.Open, FileAccess.Read);
            stream.Position = offset;
            var bytes = new byte[count];
            return bytes[..stream.ReadAtLeast(bytes, count, throwOnEndOfStream: false)];
        }
    }
}
