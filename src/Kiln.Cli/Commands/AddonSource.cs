namespace Kiln.Cli.Commands;

/// <summary>
/// What <c>create model --from</c> points at: a llama.cpp LoRA GGUF file, or a Hugging Face PEFT
/// folder (its adapter_config.json and adapter_model.safetensors are sent one upload each).
/// </summary>
public sealed record AddonSource(string? GgufFile, string? PeftConfig, string? PeftWeights)
{
    public const string ConfigName = "adapter_config.json";
    public const string WeightsName = "adapter_model.safetensors";

    public bool IsPeft => PeftConfig is not null;

    /// <summary>Reads <paramref name="from"/>; a usage error says what is missing.</summary>
    public static AddonSource Detect(string from)
    {
        var folder = Directory.Exists(from) ? from
            : Path.GetFileName(from) is ConfigName or WeightsName && File.Exists(from) ? Path.GetDirectoryName(Path.GetFullPath(from))!
            : null;
        if (folder is not null)
        {
            var config = Path.Combine(folder, ConfigName);
            var weights = Path.Combine(folder, WeightsName);
            foreach (var needed in new[] { config, weights })
            {
                if (!File.Exists(needed))
                    throw new UsageException($"--from: the PEFT folder \"{folder}\" has no {Path.GetFileName(needed)}");
            }
            return new AddonSource(null, config, weights);
        }
        if (!File.Exists(from))
            throw new UsageException($"--from: \"{from}\" not found");
        Span<byte> magic = stackalloc byte[4];
        using (var file = File.OpenRead(from))
        {
            if (file.ReadAtLeast(magic, 4, throwOnEndOfStream: false) != 4 || !magic.SequenceEqual("GGUF"u8))
                throw new UsageException($"--from: \"{from}\" is neither a LoRA GGUF file nor a PEFT folder ({ConfigName} + {WeightsName})");
        }
        return new AddonSource(from, null, null);
    }
}
