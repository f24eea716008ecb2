using Kiln.Core.Errors;
using Kiln.Engine.Gguf;
using Kiln.Engine.Models;

namespace Kiln.Server.ControlPlane.Api;

/// <summary>
/// Receives a model file: streams it to a temporary file beside its destination while hashing,
/// runs every check a replica's load runs (<see cref="ModelLoader.Validate"/>, no weights loaded),
/// then moves it into place. A model that could not load is never stored.
/// </summary>
public static class ModelUpload
{
    /// <summary>What was learned from a valid upload.</summary>
    public sealed record Result(string Sha256, long SizeBytes, string Architecture, int? ContextLength);

    /// <summary>Stores <paramref name="body"/> at <paramref name="destination"/>; INVALID_ARGUMENT for a file Kiln cannot serve.</summary>
    public static async Task<Result> ReceiveAsync(Stream body, string destination, CancellationToken ct)
    {
        var received = await UploadedFile.ReceiveAsync(body, destination, ct);
        try
        {
            var config = Validate(received.TempPath, destination);
            File.Move(received.TempPath, destination, overwrite: true);
            return new Result(received.Sha256, received.SizeBytes, config.Architecture, config.ContextLength);
        }
        finally
        {
            UploadedFile.TryDelete(received.TempPath);
        }
    }

    /// <summary>
    /// Checks a file already on disk (a finished download) as an upload is checked, then moves it to
    /// <paramref name="destination"/>; INVALID_ARGUMENT naming the problem, leaving the file where it was.
    /// </summary>
    public static Result Install(string path, string destination, string sha256)
    {
        var config = Validate(path, destination);
        Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
        var size = new FileInfo(path).Length;
        File.Move(path, destination, overwrite: true);
        return new Result(sha256, size, config.Architecture, config.ContextLength);
    }

    /// <summary>The file's config if a replica could load it; INVALID_ARGUMENT naming the problem otherwise.</summary>
    private static ModelConfig Validate(string path, string destination)
    {
        try
        {
            using var gguf = GgufFile.Open(path);
            return ModelLoader.Validate(gguf).Model.Config;
        }
        catch (ModelValidationException e)
        {
            throw KilnError.InvalidArgument(e.Message);
        }
        catch (GgufFormatException e)
        {
            throw KilnError.InvalidArgument($"not a valid GGUF file: {e.Problem} (at offset {e.Offset})");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The client never sees where the server keeps its data: only the model's file name.
            var name = Path.GetFileName(destination);
            var message = e.Message.Replace(path, name).Replace(Path.GetDirectoryName(path) ?? path, "");
            throw KilnError.InvalidArgument($"the uploaded file {name} cannot be read: {message}");
        }
    }
}
