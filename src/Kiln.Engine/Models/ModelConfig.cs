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

    public static ModelConfig FromGguf(GgufFile file)
    {
        var arch = file.GetString("general.architecture")
            ?? throw new InvalidDataException("model has no general.architecture");
        if (!SupportedArchitectures.Contains(arch))
            throw new NotSupportedException(
                $"model architecture '{arch}' is not supported (supported: {string.Join(", ", SupportedArchitectures)})");

        int Required(string key)
        {
            var v = file.GetIntegerOrNull($"{arch}.{key}") ?? throw new InvalidDataException($"model is missing {arch}.{key}");
            if (v <= 0 || v > int.MaxValue) throw new InvalidDataException($"{arch}.{key} = {v} is out of range");
            return (int)v;
        }

        var embd = Required("embedding_length");
        var heads = Required("attention.head_count");
        var kvHeads = (int)file.GetInteger($"{arch}.attention.head_count_kv", heads);
        if (kvHeads <= 0 || heads % kvHeads != 0)
            throw new InvalidDataException($"head_count {heads} is not a multiple of head_count_kv {kvHeads}");
        if (embd % heads != 0)
            throw new InvalidDataException($"embedding_length {embd} is not a multiple of head_count {heads}");
        var headDim = embd / heads;
        var ropeDims = (int)file.GetInteger($"{arch}.rope.dimension_count", headDim);
        if (ropeDims <= 0 || ropeDims > headDim || ropeDims % 2 != 0)
            throw new InvalidDataException($"rope.dimension_count {ropeDims} does not fit head dimension {headDim}");

        var scale = 1f;
        var scalingType = file.GetString($"{arch}.rope.scaling.type");
        if (scalingType is "linear")
        {
            var factor = file.GetFloat($"{arch}.rope.scaling.factor", 1f);
            if (!(factor > 0)) throw new InvalidDataException($"rope.scaling.factor {factor} must be positive");
            scale = 1f / factor;
        }
        else if (scalingType is not (null or "none"))
        {
            throw new NotSupportedException($"rope scaling type '{scalingType}' is not supported");
        }
        else if (file.Has($"{arch}.rope.scale_linear"))
        {
            scale = 1f / file.GetFloat($"{arch}.rope.scale_linear", 1f);
        }

        var eps = file.GetFloat($"{arch}.attention.layer_norm_rms_epsilon", 1e-5f);
        if (!(eps > 0 && eps < 1)) throw new InvalidDataException($"layer_norm_rms_epsilon {eps} is out of range");
        var freqBase = file.GetFloat($"{arch}.rope.freq_base", 10000f);
        if (!(freqBase > 1)) throw new InvalidDataException($"rope.freq_base {freqBase} is out of range");

        return new ModelConfig
        {
            Architecture = arch,
            Name = file.GetString("general.name") ?? Path.GetFileNameWithoutExtension(file.Path ?? "model"),
            EmbeddingLength = embd,
            BlockCount = Required("block_count"),
            HeadCount = heads,
            HeadCountKv = kvHeads,
            HeadDim = headDim,
            FeedForwardLength = Required("feed_forward_length"),
            ContextLength = Required("context_length"),
            RmsEpsilon = eps,
            RopeDimensions = ropeDims,
            RopeFreqBase = freqBase,
            RopeFreqScale = scale,
            // llama.cpp's converter permutes llama's Q/K so rotation pairs are adjacent; qwen2 keeps halves.
            RopeStyle = arch == "qwen2" ? RopeStyle.HalfSplit : RopeStyle.AdjacentPairs,
        };
    }
}
