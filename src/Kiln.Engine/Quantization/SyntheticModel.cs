using Kiln.Engine.Gguf;
using Kiln.Engine.Tensors;

namespace Kiln.Engine.Quantization;

/// <summary>The shape of a llama model for synthetic benchmark weights.</summary>
public sealed record ModelShape(string Name, int Dim, int Layers, int Heads, int KvHeads, int FeedForward, int Context)
{
    public static readonly IReadOnlyDictionary<string, ModelShape> Presets = new Dictionary<string, ModelShape>
    {
        ["stories15m"] = new("stories15m", 288, 6, 6, 6, 768, 256),
        ["stories110m"] = new("stories110m", 768, 12, 12, 12, 2048, 1024),
        ["1b"] = new("1b", 2048, 22, 32, 4, 5632, 2048),
    };
}

/// <summary>
/// Writes a llama model of a real shape with seeded N(0, 0.02) weights, unit norms, an untied
/// output and the tokenizer of another GGUF file: costs what a real model of that shape costs to
/// load and run, so benchmarks need no downloads. Its logits spread little (a standard deviation of
/// about 0.02 x sqrt(dim)), so its next-token distributions are nearly flat, where a trained model's
/// are peaked; an output norm above 1 spreads them by that factor, for benchmarks of the sampler.
/// </summary>
public static class SyntheticModel
{
    public static void Write(ModelShape shape, string vocabGguf, GgmlType type, string output, ulong seed = 42, float outputNorm = 1f)
    {
        using var vocab = GgufFile.Open(vocabGguf);
        var tokens = vocab.GetArray<string>("tokenizer.ggml.tokens")
            ?? throw new InvalidDataException($"{vocabGguf} has no tokenizer.ggml.tokens");
        if (!(outputNorm > 0f) || !float.IsFinite(outputNorm))
            throw new ArgumentOutOfRangeException(nameof(outputNorm), outputNorm, "the output norm must be a positive number");
        var nVocab = tokens.Length;
        var headDim = shape.Dim / shape.Heads;
        var w = new GgufWriter();
        w.Add("general.architecture", "llama");
        w.Add("general.name", $"synthetic-{shape.Name}");
        w.Add("general.file_type", QuantTypes.FileType(type));
        w.Add("llama.context_length", (uint)shape.Context);
        w.Add("llama.embedding_length", (uint)shape.Dim);
        w.Add("llama.block_count", (uint)shape.Layers);
        w.Add("llama.feed_forward_length", (uint)shape.FeedForward);
        w.Add("llama.attention.head_count", (uint)shape.Heads);
        w.Add("llama.attention.head_count_kv", (uint)shape.KvHeads);
        w.Add("llama.rope.dimension_count", (uint)headDim);
        w.Add("llama.attention.layer_norm_rms_epsilon", 1e-5f);
        w.Add("llama.vocab_size", (uint)nVocab);
        w.CopyMetadata(vocab, key => key.StartsWith("tokenizer.", StringComparison.Ordinal));

        var index = 0UL;
        void Matrix(string name, int cols, int rows)
        {
            var t = QuantTypes.ForRow(type, cols);
            var tensorSeed = seed * 1_000_003UL + index++;
            w.AddTensor(name, t, [cols, rows], s => WriteGaussian(s, t, cols, rows, tensorSeed));
        }
        void Ones(string name, int n, float value = 1f) => w.AddTensor(name, Enumerable.Repeat(value, n).ToArray(), n);

        var kvDim = shape.KvHeads * headDim;
        Matrix("token_embd.weight", shape.Dim, nVocab);
        for (var l = 0; l < shape.Layers; l++)
        {
            var p = $"blk.{l}.";
            Ones(p + "attn_norm.weight", shape.Dim);
            Matrix(p + "attn_q.weight", shape.Dim, shape.Dim);
            Matrix(p + "attn_k.weight", shape.Dim, kvDim);
            Matrix(p + "attn_v.weight", shape.Dim, kvDim);
            Matrix(p + "attn_output.weight", shape.Dim, shape.Dim);
            Ones(p + "ffn_norm.weight", shape.Dim);
            Matrix(p + "ffn_gate.weight", shape.Dim, shape.FeedForward);
            Matrix(p + "ffn_up.weight", shape.Dim, shape.FeedForward);
            Matrix(p + "ffn_down.weight", shape.FeedForward, shape.Dim);
        }
        Ones("output_norm.weight", shape.Dim, outputNorm);
        Matrix("output.weight", shape.Dim, nVocab);
        w.Write(output);
    }

    private static void WriteGaussian(Stream s, GgmlType type, int cols, int rows, ulong seed)
    {
        var rng = new SplitMix64(seed);
        var row = new float[cols];
        var bytes = new byte[GgmlTypeInfo.RowBytes(type, cols)];
        for (var r = 0; r < rows; r++)
        {
            for (var i = 0; i < cols; i++) row[i] = 0.02f * rng.NextGaussian();
            Tensors.Quantize.Row(type, row, bytes);
            s.Write(bytes);
        }
    }

    /// <summary>A small, fixed PRNG so the same seed writes the same model on every runtime.</summary>
    private struct SplitMix64(ulong state)
    {
        private ulong _state = state;

        public ulong Next()
        {
            var z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        public float NextGaussian()
        {
            // Box-Muller on two uniforms in (0, 1].
            var u1 = ((Next() >> 11) + 1) * (1.0 / 9007199254740992.0);
            var u2 = (Next() >> 11) * (1.0 / 9007199254740992.0);
            return (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
    }
}
