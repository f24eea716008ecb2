using Kiln.Engine.Gguf;
using Kiln.Engine.Tokenizers;

namespace Kiln.Engine.Tests.Tokenizers;

public class TokenizerFactoryTests
{
    private static GgufFile Vocab(string model, string? pre = null)
    {
        var w = new GgufWriter().Add("tokenizer.ggml.model", model);
        if (pre is not null) w.Add("tokenizer.ggml.pre", pre);
        w.Add("tokenizer.ggml.tokens", new[] { "a", "b", "ab" });
        w.Add("tokenizer.ggml.merges", new[] { "a b" });
        using var ms = new MemoryStream();
        w.Write(ms);
        return GgufFile.Parse(ms.ToArray());
    }

    [Theory]
    [InlineData("none")]
    [InlineData("t5")]
    [InlineData("rwkv")]
    public void UnsupportedModelsAreNamed(string model)
    {
        using var f = Vocab(model);
        var e = Assert.Throws<NotSupportedException>(() => TokenizerFactory.FromGguf(f));
        Assert.Contains(model, e.Message);
    }

    [Fact]
    public void UnknownPreTokenizerFallsBackToGpt2OrFailsWhenStrict()
    {
        using var f = Vocab("gpt2", "brand-new-pre");
        var t = Assert.IsType<BpeTokenizer>(TokenizerFactory.FromGguf(f));
        Assert.Contains("fallback", t.PreTokenizerName);
        Assert.Equal([2], t.Encode("ab", false, false));
        var e = Assert.Throws<NotSupportedException>(() => TokenizerFactory.FromGguf(f, strictPreTokenizer: true));
        Assert.Contains("brand-new-pre", e.Message);
    }

    [SharedTheory]
    [InlineData("ggml-vocab-llama-spm.gguf")]
    [InlineData("ggml-vocab-deepseek-llm.gguf")]
    [InlineData("ggml-vocab-falcon.gguf")]
    public void EncodesALongPromptLosslessly(string vocab)
    {
        var t = TokenizerCache.Vocab(vocab);
        var text = string.Concat(Enumerable.Repeat(
            "Once upon a time, in a small village near a big green forest, there lived a little girl named Lily. 1234 ", 80));
        var ids = t.Encode(text, false, false);
        Assert.InRange(ids.Length, 1500, 4000);
        Assert.Equal(ids, t.Encode(text, false, false));
        var bytes = ids.SelectMany(id => t.TokenBytes(id).ToArray()).ToArray();
        // The tokens spell the text byte for byte (SentencePiece adds one leading space).
        var decoded = System.Text.Encoding.UTF8.GetString(bytes);
        Assert.EndsWith(text, decoded);
        Assert.InRange(decoded.Length - text.Length, 0, 1);
    }

    [SharedFact]
    public void BuildsALargeVocabulary()
    {
        using var f = GgufFile.Open(SharedFiles.GoldenFile("vocab", "ggml-vocab-deepseek-llm.gguf"));
        var t = TokenizerFactory.FromGguf(f);
        Assert.Equal(102400, t.VocabSize);
        Assert.NotEmpty(t.Encode("hello world", false, false));
    }
}

public class TokenizerRobustnessTests
{
    public static TheoryData<string> AllVocabs() =>
    [
        "ggml-vocab-bert-bge.gguf", "ggml-vocab-deepseek-coder.gguf", "ggml-vocab-deepseek-llm.gguf",
        "ggml-vocab-falcon.gguf", "ggml-vocab-gpt-2.gguf", "ggml-vocab-llama-spm.gguf", "ggml-vocab-mpt.gguf",
        "ggml-vocab-phi-3.gguf", "ggml-vocab-refact.gguf", "ggml-vocab-starcoder.gguf",
    ];

    // Lone surrogates, NUL, controls, combining marks, supplementary planes and special-token text.
    private static readonly string[] Alphabet =
    [
        "a", "Z", " ", "  ", "\t", "\n", "\r", "\0", "\u0085", "\u00A0", "\u3000", "\uD800", "\uDFFF", "é", "e\u0301",
        "ß", "İ", "한", "中", "😀", "🦙", "\u200D", "'s", "'LL", "12345", "٣", "<s>", "</s>", "<|endoftext|>",
        "[CLS]", "<unk>", "▁", "Ġ", "\uFFFD", "\U0010FFFF", "…", "——",
    ];

    [SharedTheory]
    [MemberData(nameof(AllVocabs))]
    public void ArbitraryTextNeverCrashes(string vocab)
    {
        var t = TokenizerCache.Vocab(vocab);
        var rng = new Random(1234);
        for (var i = 0; i < 300; i++)
        {
            var text = string.Concat(Enumerable.Range(0, rng.Next(0, 12)).Select(_ => Alphabet[rng.Next(Alphabet.Length)]));
            foreach (var special in new[] { false, true })
            {
                var ids = t.Encode(text, addSpecial: special, parseSpecial: special);
                Assert.All(ids, id => Assert.InRange(id, 0, t.VocabSize - 1));
                foreach (var id in ids) _ = t.TokenBytes(id);
            }
        }
    }
}
