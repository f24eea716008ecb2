using Kiln.Core.Errors;
using Kiln.Engine.Gguf;

namespace Kiln.Server.ControlPlane.Api;

/// <summary>
/// Receives a model file: streams it to a temporary file beside its destination while hashing,
/// validates it with the engine's GGUF reader, then moves it into place.
/// </summary>
public static class ModelUpload
{
    /// <summary>Architectures the engine serves.</summary>
    public static readonly IReadOnlySet<string> Architectures = new HashSet<string> { "llama", "qwen2" };

    /// <summary>What was learned from a valid upload.</summary>
    public sealed record Result(string Sha256, long SizeBytes, string Architecture, int? ContextLength);

    /// <summary>Stores <paramref name="body"/> at <paramref name="destination"/>; INVALID_ARGUMENT for a file Kiln cannot serve.</summary>
    public static async Task<Result> ReceiveAsync(Stream body, string destination, CancellationToken ct)
    {
        var received = await UploadedFile.ReceiveAsync(body, destination, ct);
        try
        {
            var (arch, context) = Validate(received.TempPath);
            File.Move(received.TempPath, destination, overwrite: true);
            return new Result(received.Sha256, received.SizeBytes, arch, context);
        }
        finally
        {
            File.Delete(received.TempPath);
        }
    }

    private static (string Architecture, int? ContextLength) Validate(string path)
    {
        GgufFile gguf;
        try
        {
            gguf = GgufFile.Open(path);
        }
        catch (Exception e) when (e is GgufFormatException or InvalidDataException or EndOfStreamException or ArgumentException or IOException)
        {
            throw KilnError.InvalidArgument($"not a valid GGUF file: {e.Message}");
        }
        using (gguf)
        {
            var arch = gguf.GetString("general.architecture")
                ?? throw KilnError.InvalidArgument("not a servable model: the GGUF file has no general.architecture");
            if (!Architectures.Contains(arch))
            {
                throw KilnError.InvalidArgument(
                    $"unsupported architecture \"{arch}\": Kiln serves llama-family text models ({string.Join(", ", Architectures.Order())})");
            }
            var context = gguf.GetIntegerOrNull($"{arch}.context_length");
            return (arch, context is { } c and > 0 and <= int.MaxValue ? (int)c : null);
        }
    }
}
