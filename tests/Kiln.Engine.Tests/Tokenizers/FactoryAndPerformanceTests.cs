using Xunit.Abstractions;
using System.Diagnostics;
using Kiln.Engine.Gguf;
using Kiln.Engine.Tokenizers;

namespace Kiln.Engine.Tests.Tokenizers;

public class FactoryAndPerformanceTests(ITestOutputHelper output)
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
    [InlineData("ggml-vocab-bert-bge.gguf")]
    [InlineData("ggml-vocab-falcon.gguf")]
    public void EncodesALongPromptInMilliseconds(string vocab)
    {
        var t = TokenizerCache.Vocab(vocab);
        var text = string.Concat(Enumerable.Repeat(
            "Once upon a time, in a small village near a big green forest, there lived a little girl named Lily. 1234 ", 80));
        var ids = t.Encode(text, false, false);
        Assert.InRange(ids.Length, 1500, 4000);
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < 5; i++) t.Encode(text, false, false);
        var perCall = sw.Elapsed.TotalMilliseconds / 5;
        output.WriteLine($"{vocab}: {ids.Length} tokens in {perCall:F2} ms");
        Assert.True(perCall < 100, $"{vocab}: {ids.Length} tokens took {perCall:F1} ms");
    }

    [SharedFact]
    public void BuildsALargeVocabularyQuickly()
    {
        using var f = GgufFile.Open(SharedFiles.GoldenFile("vocab", "ggml-vocab-deepseek-llm.gguf"));
        TokenizerFactory.FromGguf(f); // warm-up (JIT, Unicode tables)
        var sw = Stopwatch.StartNew();
        TokenizerFactory.FromGguf(f);
        output.WriteLine($"102,400-token BPE vocabulary built in {sw.ElapsedMilliseconds} ms");
        Assert.True(sw.ElapsedMilliseconds < 1000, $"took {sw.ElapsedMilliseconds} ms");
    }
}
