using Kiln.Engine.Gguf;

namespace Kiln.ControlPlane.Tests;

/// <summary>Small GGUF files for the failure paths.</summary>
public static class TestModels
{
    /// <summary>The shared tiny llama model.</summary>
    public static byte[] Stories260K() => File.ReadAllBytes(SharedFiles.Model("stories260K.gguf"));

    /// <summary>
    /// A complete tiny llama a replica can load: random F32 weights and an 8-token SentencePiece
    /// vocabulary. <paramref name="set"/> overrides metadata; <paramref name="tensors"/> false leaves the weights out.
    /// </summary>
    public static byte[] Tiny(IReadOnlyDictionary<string, object>? set = null, bool tensors = true)
    {
        const int dim = 8, ffn = 16, heads = 2;
        string[] pieces = ["<unk>", "<s>", "</s>", "\u2581", "a", "b", "\u2581a", "\u2581b"];
        var metadata = new Dictionary<string, object>
        {
            ["general.architecture"] = "llama",
            ["llama.context_length"] = 64u,
            ["llama.embedding_length"] = (uint)dim,
            ["llama.block_count"] = 1u,
            ["llama.feed_forward_length"] = (uint)ffn,
            ["llama.attention.head_count"] = (uint)heads,
            ["tokenizer.ggml.model"] = "llama",
            ["tokenizer.ggml.tokens"] = pieces,
        };
        foreach (var (key, value) in set ?? new Dictionary<string, object>()) metadata[key] = value;
        var w = new GgufWriter();
        foreach (var (key, value) in metadata) w.Add(key, value);
        if (tensors)
        {
            var rng = new Random(7);
            float[] Random(int n) => [.. Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() - 0.5))];
            w.AddTensor("token_embd.weight", Random(pieces.Length * dim), dim, pieces.Length);
            foreach (var norm in (string[])["blk.0.attn_norm.weight", "blk.0.ffn_norm.weight", "output_norm.weight"])
                w.AddTensor(norm, Random(dim), dim);
            foreach (var square in (string[])["blk.0.attn_q.weight", "blk.0.attn_k.weight", "blk.0.attn_v.weight", "blk.0.attn_output.weight"])
                w.AddTensor(square, Random(dim * dim), dim, dim);
            w.AddTensor("blk.0.ffn_gate.weight", Random(dim * ffn), dim, ffn);
            w.AddTensor("blk.0.ffn_up.weight", Random(dim * ffn), dim, ffn);
            w.AddTensor("blk.0.ffn_down.weight", Random(ffn * dim), ffn, dim);
        }
        using var ms = new MemoryStream();
        w.Write(ms);
        return ms.ToArray();
    }

    /// <summary>A well-formed GGUF of the given architecture with one tensor but no weights a model needs.</summary>
    public static byte[] Hollow(string architecture)
    {
        var w = new GgufWriter()
            .Add("general.architecture", architecture)
            .Add($"{architecture}.context_length", 128u)
            .AddTensor("output_norm.weight", new float[32], 32);
        using var ms = new MemoryStream();
        w.Write(ms);
        return ms.ToArray();
    }
}
