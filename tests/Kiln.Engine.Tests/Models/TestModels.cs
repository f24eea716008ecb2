using Kiln.Engine.Gguf;

namespace Kiln.Engine.Tests.Models;

/// <summary>Small complete models (weights and tokenizer) generated in memory, and the real ones when present.</summary>
public static class TestModels
{
    /// <summary>A random F32 llama with a SentencePiece vocabulary (unk, BOS, EOS and byte-less pieces).</summary>
    public static GgufImage Llama()
    {
        var tiny = TinyModel.Random("llama", tied: false, seed: 11);
        var image = GgufImage.From(tiny.ToGguf());
        var pieces = new List<string> { "<unk>", "<s>", "</s>", "\u2581" };
        for (var c = 'a'; pieces.Count < tiny.Vocab; c++) pieces.Add(pieces.Count % 2 == 0 ? c.ToString() : "\u2581" + c);
        image.Set("tokenizer.ggml.model", "llama");
        image.Set("tokenizer.ggml.tokens", new GgufArray(GgufValueType.String, pieces.ToArray()));
        image.Set("tokenizer.ggml.scores", new GgufArray(GgufValueType.Float32, pieces.Select((_, i) => -(float)i).ToArray()));
        image.Set("tokenizer.ggml.token_type", new GgufArray(GgufValueType.Int32, pieces.Select((_, i) => i == 0 ? 2 : i < 3 ? 3 : 1).ToArray()));
        image.Set("tokenizer.ggml.bos_token_id", 1u);
        image.Set("tokenizer.ggml.eos_token_id", 2u);
        image.Set("tokenizer.ggml.unknown_token_id", 0u);
        return image;
    }

    /// <summary>A random F32 qwen2 (biases, tied output) with a byte-level BPE vocabulary and merges.</summary>
    public static GgufImage Qwen2()
    {
        var tiny = TinyModel.Random("qwen2", tied: true, seed: 12);
        var image = GgufImage.From(tiny.ToGguf());
        var pieces = new List<string>();
        for (var c = 'a'; c <= 'z'; c++) pieces.Add(c.ToString());
        pieces.Add("\u0120");
        var merges = new List<string>();
        for (var c = 'a'; pieces.Count < tiny.Vocab - 1; c++)
        {
            pieces.Add("\u0120" + c);
            merges.Add("\u0120 " + c);
        }
        pieces.Add("<|endoftext|>");
        image.Set("tokenizer.ggml.model", "gpt2");
        image.Set("tokenizer.ggml.pre", "qwen2");
        image.Set("tokenizer.ggml.tokens", new GgufArray(GgufValueType.String, pieces.ToArray()));
        image.Set("tokenizer.ggml.merges", new GgufArray(GgufValueType.String, merges.ToArray()));
        image.Set("tokenizer.ggml.token_type", new GgufArray(GgufValueType.Int32, pieces.Select((p, i) => i == pieces.Count - 1 ? 3 : 1).ToArray()));
        image.Set("tokenizer.ggml.eos_token_id", (uint)(pieces.Count - 1));
        image.Set("tokenizer.ggml.add_bos_token", false);
        return image;
    }

    /// <summary>The shared real models used as mutation seeds (none when the shared folder is absent).</summary>
    public static IEnumerable<(string Name, GgufImage Image)> Real()
    {
        if (SharedFiles.Root is null) yield break;
        foreach (var name in (string[])["stories260K.gguf", "TinyStories-656K-Q8_0.gguf", "TinyStories-656K-Q2_K.gguf"])
        {
            var path = SharedFiles.Model(name);
            if (File.Exists(path)) yield return (name, GgufImage.From(File.ReadAllBytes(path)));
        }
    }
}
