using Kiln.Engine.Gguf;

namespace Kiln.Engine.Models;

/// <summary>How RoPE pairs dimensions: adjacent pairs (llama) or the two halves of the head (qwen2, "NeoX").</summary>
public enum RopeStyle
{
    AdjacentPairs,
    HalfSplit,
}

/// <summary>Hyperparameters of a llama-family model, read and checked from GGUF metadata.</summary>
public sealed record ModelConfig
{
    public required string Architecture { get; init; }
    public required string Name { get; init; }
    public required int EmbeddingLength { get; init; }
    public required int BlockCount { get; init; }
    public required int HeadCount { get; init; }
    public required int HeadCountKv { get; init; }
    public required int HeadDim { get; init; }
    public required int FeedForwardLength { get; init; }
    public required int ContextLength { get; init; }
    public required float RmsEpsilon { get; init; }
    public required int RopeDimensions { get; init; }
    public required float RopeFreqBase { get; init; }
    public required float RopeFreqScale { get; init; }
    public required RopeStyle RopeStyle { get; init; }

    public static readonly IReadOnlySet<string> SupportedArchitectures = new HashSet<string> { "llama", "qwen2" };

    /// <summary>Reads the hyperparameters; throws <see cref="ModelValidationException"/> naming the key at fault.</summary>
    public static ModelConfig FromGguf(GgufFile file) => ModelValidator.Config(file);
}
