using System.Security.Cryptography;
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
        var dir = Path.GetDirectoryName(destination)!;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, $".{Path.GetFileName(destination)}.{Guid.NewGuid():N}.part");
        try
        {
            string sha;
            long size;
            using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                var buffer = new byte[1 << 16];
                int n;
                while ((n = await body.ReadAsync(buffer, ct)) > 0)
                {
                    hash.AppendData(buffer, 0, n);
                    await file.WriteAsync(buffer.AsMemory(0, n), ct);
                }
                sha = Convert.ToHexStringLower(hash.GetHashAndReset());
                size = file.Length;
            }
            var (arch, context) = Validate(temp);
            File.Move(temp, destination, overwrite: true);
            return new Result(sha, size, arch, context);
        }
        finally
        {
            File.Delete(temp);
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
