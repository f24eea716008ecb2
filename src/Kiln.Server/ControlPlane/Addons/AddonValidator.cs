using Kiln.Core.Errors;
using Kiln.Engine.Gguf;
using Kiln.Engine.Lora;
using Kiln.Engine.Models;

namespace Kiln.Server.ControlPlane.Addons;

/// <summary>
/// Checks an uploaded adapter against its base model with the engine's own rules, so that an
/// addon which would not load on a replica is refused at upload rather than at deploy time.
/// </summary>
public static class AddonValidator
{
    /// <summary>What was learned from a valid adapter.</summary>
    public sealed record Facts(string? Architecture, int Updates, int MaxRank);

    /// <summary>
    /// Reads the adapter at <paramref name="adapterPath"/> (LoRA GGUF file or PEFT folder) and checks
    /// every update against the base model's weights; INVALID_ARGUMENT naming the first problem.
    /// </summary>
    public static Facts Validate(string adapterPath, string basePath, string baseName)
    {
        GgufFile baseFile;
        try
        {
            baseFile = GgufFile.Open(basePath);
        }
        catch (GgufFormatException e)
        {
            throw KilnError.FailedPrecondition($"the file of base model {baseName} cannot be read: {e.Message}");
        }
        catch (IOException)
        {
            // The exception's words would name the server's data path.
            throw KilnError.FailedPrecondition($"the file of base model {baseName} cannot be read");
        }
        using (baseFile)
        {
            ModelConfig config;
            try
            {
                // The model loader's own checks; a base imported before they existed may fail them.
                config = ModelConfig.FromGguf(baseFile);
                ModelValidator.Tensors(baseFile, config);
            }
            catch (ModelValidationException e)
            {
                throw KilnError.FailedPrecondition($"base model {baseName} cannot be served: {e.Message}");
            }
            using var weights = LlamaWeights.Load(baseFile, config);
            LoraAdapter adapter;
            try
            {
                adapter = LoraAdapter.Load(adapterPath, config);
            }
            catch (Exception e) when (e is InvalidDataException or NotSupportedException or InvalidOperationException
                or GgufFormatException or IOException or EndOfStreamException or ArgumentException)
            {
                throw KilnError.InvalidArgument($"not a valid LoRA adapter: {e.Message}");
            }
            try
            {
                adapter.Validate(config, weights);
            }
            catch (LoraMismatchException e)
            {
                throw KilnError.InvalidArgument($"the addon does not fit base model {baseName}: {e.Message}");
            }
            return new Facts(adapter.Architecture ?? config.Architecture, adapter.Pairs.Count, adapter.MaxRank);
        }
    }
}
