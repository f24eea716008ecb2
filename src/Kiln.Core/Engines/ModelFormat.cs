using Kiln.Core.Wire;

namespace Kiln.Core.Engines;

/// <summary>How a model's weights are stored, which decides the engines that can serve it.</summary>
public enum ModelFormat
{
    /// <summary>One GGUF file (Kiln's engine, llama.cpp's server).</summary>
    Gguf,
    /// <summary>A Hugging Face model folder: <c>config.json</c> and <c>*.safetensors</c> (vLLM, SGLang).</summary>
    HfSafetensors,
}

/// <summary>Wire names of <see cref="ModelFormat"/>.</summary>
public static class ModelFormats
{
    private static readonly WireTable<ModelFormat> Table = new(
        (ModelFormat.Gguf, "GGUF"),
        (ModelFormat.HfSafetensors, "HF_SAFETENSORS"));

    /// <summary>Every wire name, in declaration order.</summary>
    public static IReadOnlyList<string> WireNames { get; } = [.. Table.Names];

    /// <summary>The wire name, e.g. "GGUF".</summary>
    public static string ToWireName(this ModelFormat format) => Table.Name(format);

    /// <summary>Parses a wire name (exact).</summary>
    public static bool TryParse(string? name, out ModelFormat format) => Table.TryParse(name, out format);
}
