using Kiln.Core.Errors;
using Kiln.Core.ModelFiles;
using Kiln.Store;

namespace Kiln.Server.ControlPlane.Api;

/// <summary>
/// Receives a Hugging Face model folder one file at a time (<c>:upload?file=NAME</c>), then checks
/// the whole folder on <c>:validateUpload</c> (config.json and every safetensors header, no
/// tensor loaded) before the model becomes READY. A folder that fails the check stays UPLOADING.
/// </summary>
public static class HfModelUpload
{
    /// <summary>Stores one file of the folder; INVALID_ARGUMENT for a name that is not a plain file name.</summary>
    public static async Task ReceiveAsync(Stream body, string folder, string? file, CancellationToken ct)
    {
        if (file is null || !HfModelFolder.IsFileName(file))
        {
            throw KilnError.InvalidArgument($"file: a Hugging Face model is uploaded one file at a time with ?file=NAME (a plain file name such as config.json), got \"{file}\"");
        }
        var destination = Path.Combine(folder, file);
        var received = await UploadedFile.ReceiveAsync(body, destination, ct);
        try
        {
            File.Move(received.TempPath, destination, overwrite: true);
        }
        finally
        {
            UploadedFile.TryDelete(received.TempPath);
        }
    }

    /// <summary>The model READY with what its folder says, or INVALID_ARGUMENT naming the bad file.</summary>
    public static async Task<ModelRecord> CompleteAsync(IKilnStore store, ModelRecord model, CancellationToken ct)
    {
        HfModelFacts facts;
        try
        {
            facts = HfModelFolder.Inspect(new FolderFiles(model.FilePath));
        }
        catch (HfModelException e)
        {
            throw KilnError.InvalidArgument($"model {model.Name} is not a servable Hugging Face folder: {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw KilnError.InvalidArgument($"model {model.Name}: its files cannot be read: {e.Message.Replace(model.FilePath, "")}");
        }
        var size = new DirectoryInfo(model.FilePath).EnumerateFiles().Sum(f => f.Length);
        return await store.UpdateModelAsync(model with
        {
            SizeBytes = size,
            Architecture = facts.Architecture,
            ContextLength = facts.ContextLength,
            State = Kiln.Core.Models.ModelState.Ready,
        }, ct);
    }

    /// <summary>A folder on this disk; none when it was never written to.</summary>
    private sealed class FolderFiles(string folder) : IModelFolderFiles
    {
        public IReadOnlyList<string> Names { get; } = Directory.Exists(folder)
            ? [.. Directory.EnumerateFiles(folder).Select(Path.GetFileName).OfType<string>().Where(HfModelFolder.IsFileName)]
            : [];

        public long Size(string name) => new FileInfo(Path.Combine(folder, name)).Length;

        public byte[] Read(string name, long offset, int count)
        {
            using var f = File.OpenRead(Path.Combine(folder, name));
            f.Seek(offset, SeekOrigin.Begin);
            var buffer = new byte[count];
            var n = f.ReadAtLeast(buffer, count, throwOnEndOfStream: false);
            return n == count ? buffer : buffer[..n];
        }
    }
}
