using Kiln.Core.Errors;
using Kiln.Server.ControlPlane.Api;

namespace Kiln.Server.ControlPlane.Addons;

/// <summary>
/// Receives an addon into its own folder, <c>models/&lt;A&gt;/&lt;M&gt;/</c>: either one llama.cpp LoRA
/// GGUF (stored as <c>adapter.gguf</c>) or the two files of a PEFT folder, one upload each. The
/// adapter is validated against its base model as soon as it is complete.
/// </summary>
public static class AddonUpload
{
    /// <summary>The stored name of a GGUF adapter.</summary>
    public const string GgufName = "adapter.gguf";

    /// <summary>PEFT's configuration file.</summary>
    public const string PeftConfig = "adapter_config.json";

    /// <summary>PEFT's weights file.</summary>
    public const string PeftWeights = "adapter_model.safetensors";

    /// <summary>
    /// Where an upload left the addon. <paramref name="Path"/> is what replicas load (the GGUF file
    /// or the PEFT folder) once <paramref name="Complete"/>; the hash is the weights file's.
    /// </summary>
    public sealed record Result(bool Complete, string Path, string? Sha256, long SizeBytes, string? Architecture);

    /// <summary>
    /// Stores one upload. <paramref name="file"/> is null for a GGUF adapter, else the PEFT file it carries.
    /// </summary>
    public static async Task<Result> ReceiveAsync(Stream body, string folder, string? file, string basePath, string baseName, CancellationToken ct)
    {
        if (file is not (null or PeftConfig or PeftWeights))
        {
            throw KilnError.InvalidArgument($"file: \"{file}\" is not part of an addon; upload {PeftConfig} and {PeftWeights}, or one LoRA GGUF without ?file=");
        }
        Directory.CreateDirectory(folder);
        var destination = Path.Combine(folder, file ?? GgufName);
        var received = await UploadedFile.ReceiveAsync(body, destination, ct);
        try
        {
            if (file is null)
            {
                if (Directory.Exists(basePath))
                {
                    throw KilnError.InvalidArgument($"base model {baseName} is a Hugging Face folder: its addons are PEFT folders ({PeftConfig} and {PeftWeights}), not LoRA GGUF files");
                }
                var facts = AddonValidator.Validate(received.TempPath, basePath, baseName);
                File.Move(received.TempPath, destination, overwrite: true);
                // One form per addon: a GGUF replaces a PEFT upload that was under way.
                File.Delete(Path.Combine(folder, PeftConfig));
                File.Delete(Path.Combine(folder, PeftWeights));
                return new Result(true, destination, received.Sha256, received.SizeBytes, facts.Architecture);
            }
            File.Move(received.TempPath, destination, overwrite: true);
            File.Delete(Path.Combine(folder, GgufName));
            return CompletePeft(folder, basePath, baseName);
        }
        finally
        {
            File.Delete(received.TempPath);
        }
    }

    private static Result CompletePeft(string folder, string basePath, string baseName)
    {
        var config = Path.Combine(folder, PeftConfig);
        var weights = Path.Combine(folder, PeftWeights);
        if (!File.Exists(config) || !File.Exists(weights))
        {
            return new Result(false, folder, null, 0, null);
        }
        string? architecture;
        try
        {
            // A Hugging Face base is served by an engine that checks the adapter against it when it
            // loads; Kiln checks that the pair is well-formed. A GGUF base is checked tensor by tensor here.
            architecture = Directory.Exists(basePath) ? CheckPeftShape(folder) : AddonValidator.Validate(folder, basePath, baseName).Architecture;
        }
        catch (KilnError)
        {
            // A pair that does not validate is no use half-kept: both files are sent again.
            File.Delete(config);
            File.Delete(weights);
            throw;
        }
        var size = new FileInfo(config).Length + new FileInfo(weights).Length;
        return new Result(true, folder, UploadedFile.Sha256Of(weights), size, architecture);
    }

    /// <summary>INVALID_ARGUMENT unless the config is a JSON object and the weights a well-formed safetensors file; the base's architecture is not known here.</summary>
    private static string? CheckPeftShape(string folder)
    {
        try
        {
            using (var config = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, PeftConfig))))
            {
                if (config.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object)
                {
                    throw KilnError.InvalidArgument($"{PeftConfig}: not a JSON object");
                }
            }
            using var weights = File.OpenRead(Path.Combine(folder, PeftWeights));
            var first8 = new byte[8];
            weights.ReadAtLeast(first8, 8, throwOnEndOfStream: false);
            var length = Kiln.Core.ModelFiles.HfModelFolder.HeaderLength(PeftWeights, first8, weights.Length);
            var header = new byte[length];
            weights.ReadExactly(header);
            Kiln.Core.ModelFiles.HfModelFolder.ReadHeader(PeftWeights, header, weights.Length);
            return null;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or Kiln.Core.ModelFiles.HfModelException)
        {
            throw KilnError.InvalidArgument($"not a PEFT adapter: {e.Message}");
        }
    }
}
