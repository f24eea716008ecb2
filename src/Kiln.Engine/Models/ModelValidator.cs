using Kiln.Engine.Gguf;
using Kiln.Engine.Tensors;
using Kiln.Engine.Tokenizers;

namespace Kiln.Engine.Models;

/// <summary>
/// A GGUF file Kiln cannot serve: names the metadata key or tensor at fault and, where the file has
/// one, the offset of its entry. A <see cref="GgufFormatException"/>, so callers that refuse malformed
/// files refuse these with them.
/// </summary>
public sealed class ModelValidationException : GgufFormatException
{
    public ModelValidationException(string problem, string? field = null, long offset = -1)
        : base(offset >= 0 ? $"cannot serve this model: {problem} (at offset {offset})" : $"cannot serve this model: {problem}", problem, offset)
    {
        Field = field;
    }

    /// <summary>The metadata key or tensor name at fault, when there is one.</summary>
    public string? Field { get; }
}

/// <summary>What validation learned: the hyperparameters, the tokenizer it built, and the vocabulary size.</summary>
public sealed record ValidatedModel(ModelConfig Config, ITokenizer Tokenizer, int VocabSize);

/// <summary>
/// Every check a replica's load makes, run on the file's header alone (no weight is read or packed):
/// the architecture and hyperparameters, every tensor's presence, type and shape, and the tokenizer,
/// which is built from metadata. <see cref="LlamaModel"/> and <see cref="LlamaWeights"/> call these
/// same checks before they allocate anything, so a file that passes <see cref="Validate"/> loads, and
/// one that would fail to load is refused here with the same message.
/// </summary>
public static class ModelValidator
{
    /// <summary>Largest context_length accepted (2^20): above every llama/qwen2 release; RoPE tables and KV caches are sized by it.</summary>
    public const int MaxContextLength = 1 << 20;

    /// <summary>Largest embedding_length accepted; real models stop at 16384.</summary>
    public const int MaxEmbeddingLength = 1 << 16;

    /// <summary>Largest feed_forward_length accepted; real models stop near 53248. Bounds per-step buffers.</summary>
    public const int MaxFeedForwardLength = 1 << 18;

    /// <summary>Largest vocabulary (embedding rows) accepted; real models stop near 256k. Bounds the logits buffer.</summary>
    public const int MaxVocabulary = 1 << 20;

    /// <summary>
    /// Checks everything a replica's load checks, and builds the tokenizer (metadata only).
    /// Throws <see cref="GgufFormatException"/> (usually its subclass <see cref="ModelValidationException"/>).
    /// </summary>
    public static ValidatedModel Validate(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var config = Config(file);
        var vocab = Tensors(file, config);
        var tokenizer = Tokenizer(file);
        if (tokenizer.VocabSize != vocab)
            throw new ModelValidationException(
                $"the tokenizer has {tokenizer.VocabSize} tokens but token_embd.weight has {vocab} rows; they must match",
                "tokenizer.ggml.tokens", file.MetadataOffset("tokenizer.ggml.tokens"));
        return new ValidatedModel(config, tokenizer, vocab);
    }

    /// <summary>Builds the file's tokenizer as a replica does, refusing one that cannot frame a prompt.</summary>
    public static ITokenizer Tokenizer(GgufFile file)
    {
        ITokenizer tokenizer;
        try
        {
            tokenizer = TokenizerFactory.FromGguf(file);
        }
        catch (Exception e) when (e is NotSupportedException or InvalidDataException)
        {
            throw new ModelValidationException($"tokenizer: {e.Message}", "tokenizer.ggml.model", file.MetadataOffset("tokenizer.ggml.model"));
        }
        try
        {
            // Every prompt is framed with the special tokens the file asks for (BOS, EOS, CLS); they must exist.
            tokenizer.Encode("", addSpecial: true, parseSpecial: false);
        }
        catch (InvalidOperationException e)
        {
            throw new ModelValidationException($"the vocabulary (tokenizer.ggml.tokens) cannot frame a prompt: {e.Message}",
                "tokenizer.ggml.tokens", file.MetadataOffset("tokenizer.ggml.tokens"));
        }
        return tokenizer;
    }

    /// <summary>Reads and checks the hyperparameters (<see cref="ModelConfig.FromGguf"/>).</summary>
    public static ModelConfig Config(GgufFile file)
    {
        var arch = String(file, "general.architecture")
            ?? throw new ModelValidationException("the file has no general.architecture", "general.architecture");
        if (!ModelConfig.SupportedArchitectures.Contains(arch))
            throw Bad(file, "general.architecture",
                $"model architecture \"{arch}\" is not supported (supported: {string.Join(", ", ModelConfig.SupportedArchitectures)})");

        int Required(string key, long max)
        {
            var name = $"{arch}.{key}";
            var v = Integer(file, name) ?? throw new ModelValidationException($"model is missing {name}", name);
            if (v < 1 || v > max) throw Bad(file, name, $"{name} = {v} is out of range (1 to {max})");
            return (int)v;
        }

        var embd = Required("embedding_length", MaxEmbeddingLength);
        var heads = Required("attention.head_count", embd);
        if (embd % heads != 0)
            throw Bad(file, $"{arch}.attention.head_count", $"{arch}.embedding_length {embd} is not a multiple of {arch}.attention.head_count {heads}");
        var kvKey = $"{arch}.attention.head_count_kv";
        var kvHeads = Integer(file, kvKey) ?? heads;
        if (kvHeads < 1 || kvHeads > heads || heads % kvHeads != 0)
            throw Bad(file, kvKey, $"{arch}.attention.head_count {heads} is not a multiple of {kvKey} {kvHeads}");
        var headDim = embd / heads;
        var ropeKey = $"{arch}.rope.dimension_count";
        var ropeDims = Integer(file, ropeKey) ?? headDim;
        if (ropeDims < 2 || ropeDims > headDim || ropeDims % 2 != 0)
            throw Bad(file, ropeKey, $"{ropeKey} = {ropeDims} does not fit head dimension {headDim} (an even number from 2 to {headDim})");
        var blocks = Required("block_count", int.MaxValue);
        var ffn = Required("feed_forward_length", MaxFeedForwardLength);
        var context = Required("context_length", MaxContextLength);
        // The RoPE table holds context × rope_dims/2 angles in one array.
        if ((long)context * (ropeDims / 2) > Array.MaxLength)
            throw Bad(file, $"{arch}.context_length", $"{arch}.context_length {context} with {ropeKey} {ropeDims} needs too large a RoPE table");

        var scale = 1f;
        var scalingKey = $"{arch}.rope.scaling.type";
        var scalingType = String(file, scalingKey);
        if (scalingType is "linear")
        {
            var factorKey = $"{arch}.rope.scaling.factor";
            var factor = Float(file, factorKey, 1f);
            if (!(factor > 0) || !float.IsFinite(factor) || !float.IsFinite(1f / factor))
                throw Bad(file, factorKey, $"{factorKey} = {factor} must be a positive finite number");
            scale = 1f / factor;
        }
        else if (scalingType is not (null or "none"))
        {
            throw Bad(file, scalingKey, $"{scalingKey} '{scalingType}' is not supported");
        }
        else if (file.Has($"{arch}.rope.scale_linear"))
        {
            var linearKey = $"{arch}.rope.scale_linear";
            var linear = Float(file, linearKey, 1f);
            if (!(linear > 0) || !float.IsFinite(linear) || !float.IsFinite(1f / linear))
                throw Bad(file, linearKey, $"{linearKey} = {linear} must be a positive finite number");
            scale = 1f / linear;
        }

        var epsKey = $"{arch}.attention.layer_norm_rms_epsilon";
        var eps = Float(file, epsKey, 1e-5f);
        if (!(eps > 0 && eps < 1)) throw Bad(file, epsKey, $"{epsKey} = {eps} is out of range (0 to 1)");
        var baseKey = $"{arch}.rope.freq_base";
        var freqBase = Float(file, baseKey, 10000f);
        if (!(freqBase > 1) || !float.IsFinite(freqBase)) throw Bad(file, baseKey, $"{baseKey} = {freqBase} is out of range (above 1, finite)");

        return new ModelConfig
        {
            Architecture = arch,
            Name = file.GetString("general.name") ?? Path.GetFileNameWithoutExtension(file.Path ?? "model"),
            EmbeddingLength = embd,
            BlockCount = blocks,
            HeadCount = heads,
            HeadCountKv = (int)kvHeads,
            HeadDim = headDim,
            FeedForwardLength = ffn,
            ContextLength = context,
            RmsEpsilon = eps,
            RopeDimensions = (int)ropeDims,
            RopeFreqBase = freqBase,
            RopeFreqScale = scale,
            // llama.cpp's converter permutes llama's Q/K so rotation pairs are adjacent; qwen2 keeps halves.
            RopeStyle = arch == "qwen2" ? RopeStyle.HalfSplit : RopeStyle.AdjacentPairs,
        };
    }

    /// <summary>
    /// Checks every tensor <see cref="LlamaWeights.Load"/> reads against the config: presence, a type
    /// Kiln computes with, and shape. Returns the vocabulary size (rows of token_embd.weight).
    /// </summary>
    public static int Tensors(GgufFile file, ModelConfig c)
    {
        var e = c.EmbeddingLength;
        var qDim = c.HeadCount * c.HeadDim;
        var kvDim = c.HeadCountKv * c.HeadDim;

        var embedding = Require(file, "token_embd.weight");
        CheckMatrix(file, embedding);
        if (embedding.Shape[0] != e)
            throw Shape(file, embedding, $"[{e}, vocabulary]");
        if (embedding.Rows > MaxVocabulary)
            throw Bad(file, embedding, $"tensor '{embedding.Name}' has {embedding.Rows} rows, more than the {MaxVocabulary} tokens Kiln accepts");
        var vocab = (int)embedding.Rows;

        for (var i = 0; i < c.BlockCount; i++)
        {
            var p = $"blk.{i}.";
            Vector(file, p + "attn_norm.weight", e, required: true);
            Matrix(file, p + "attn_q.weight", e, qDim);
            Matrix(file, p + "attn_k.weight", e, kvDim);
            Matrix(file, p + "attn_v.weight", e, kvDim);
            Matrix(file, p + "attn_output.weight", qDim, e);
            Vector(file, p + "attn_q.bias", qDim, required: false);
            Vector(file, p + "attn_k.bias", kvDim, required: false);
            Vector(file, p + "attn_v.bias", kvDim, required: false);
            Vector(file, p + "ffn_norm.weight", e, required: true);
            Matrix(file, p + "ffn_gate.weight", e, c.FeedForwardLength);
            Matrix(file, p + "ffn_up.weight", e, c.FeedForwardLength);
            Matrix(file, p + "ffn_down.weight", c.FeedForwardLength, e);
        }
        Vector(file, "output_norm.weight", e, required: true);
        if (file.FindTensor("output.weight") is not null) Matrix(file, "output.weight", e, vocab);
        Vector(file, "rope_freqs.weight", c.RopeDimensions / 2, required: false);
        return vocab;
    }

    /// <summary>
    /// The checks <see cref="WeightMatrix"/> makes of any tensor it wraps: a type the matmul kernels
    /// handle, a 2-D shape, and rows that fit its 2 GiB spans.
    /// </summary>
    internal static void CheckMatrix(GgufFile? file, GgufTensorInfo t)
    {
        if (!GgmlTypeInfo.IsSupported(t.Type) || t.Type is GgmlType.Q8_1 or GgmlType.Q8_K)
            throw Bad(file, t, $"tensor '{t.Name}' has type {t.Type}, which Kiln cannot compute with");
        if (t.Shape.Length > 2 && t.Shape[2..].Any(d => d != 1))
            throw Bad(file, t, $"tensor '{t.Name}' should be a matrix but has shape [{string.Join(", ", t.Shape)}]");
        if (t.Shape[0] > int.MaxValue || t.Rows > int.MaxValue || t.Rows * GgmlTypeInfo.RowBytes(t.Type, t.Shape[0]) > int.MaxValue)
            throw Bad(file, t, $"tensor '{t.Name}' is larger than 2 GiB");
    }

    private static void Matrix(GgufFile file, string name, int cols, int rows)
    {
        var t = Require(file, name);
        CheckMatrix(file, t);
        if (t.Shape[0] != cols || t.Rows != rows) throw Shape(file, t, $"[{cols}, {rows}]");
    }

    private static void Vector(GgufFile file, string name, int length, bool required)
    {
        var t = file.FindTensor(name);
        if (t is null)
        {
            if (required) throw new ModelValidationException($"model is missing tensor '{name}'", name);
            return;
        }
        if (t.ElementCount != length || t.Shape[0] != length) throw Shape(file, t, $"[{length}]");
        if (!GgmlTypeInfo.IsSupported(t.Type))
            throw Bad(file, t, $"tensor '{name}' has type {t.Type}, which Kiln cannot read");
    }

    private static GgufTensorInfo Require(GgufFile file, string name) =>
        file.FindTensor(name) ?? throw new ModelValidationException($"model is missing tensor '{name}'", name);

    private static ModelValidationException Shape(GgufFile file, GgufTensorInfo t, string expected) =>
        Bad(file, t, $"tensor '{t.Name}' has shape [{string.Join(", ", t.Shape)}], expected {expected}");

    private static ModelValidationException Bad(GgufFile? file, GgufTensorInfo t, string problem) =>
        new(problem, t.Name, file?.TensorInfoOffset(t.Name) ?? -1);

    private static ModelValidationException Bad(GgufFile file, string key, string problem) =>
        new(problem, key, file.MetadataOffset(key));

    private static string? String(GgufFile file, string key) =>
        !file.Metadata.TryGetValue(key, out var v) ? null
        : v as string ?? throw Bad(file, key, $"metadata '{key}' should be a string but is {v.GetType().Name}");

    private static long? Integer(GgufFile file, string key)
    {
        if (!file.Metadata.TryGetValue(key, out var v)) return null;
        if (v is bool) throw Bad(file, key, $"metadata '{key}' should be an integer but is a bool");
        try
        {
            return file.GetInteger(key, 0);
        }
        catch (GgufFormatException e)
        {
            throw Bad(file, key, e.Problem);
        }
    }

    private static float Float(GgufFile file, string key, float fallback)
    {
        try
        {
            return file.GetFloat(key, fallback);
        }
        catch (GgufFormatException e)
        {
            throw Bad(file, key, e.Problem);
        }
    }
}
