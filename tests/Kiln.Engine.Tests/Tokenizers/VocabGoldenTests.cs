using System.Text;

namespace Kiln.Engine.Tests.Tokenizers;

/// <summary>
/// llama.cpp's own tokenizer vectors: every case of every vocab, tokenized without special tokens
/// and without parsing special-token text, must give exactly the reference ids.
/// </summary>
public class VocabGoldenTests
{
    private const string Separator = "\n__ggml_vocab_test__\n";

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        if (SharedFiles.Root is null)
        {
            data.Add("(shared folder missing)", 0);
            return data;
        }
        foreach (var gguf in Directory.GetFiles(SharedFiles.GoldenFile("vocab"), "*.gguf").Order(StringComparer.Ordinal))
        {
            if (!File.Exists(gguf + ".inp") || !File.Exists(gguf + ".out")) continue;
            var count = ReadCases(gguf).Length;
            for (var i = 0; i < count; i++) data.Add(Path.GetFileName(gguf), i);
        }
        return data;
    }

    private static (string Input, int[] Expected)[] ReadCases(string gguf)
    {
        var inputs = Encoding.UTF8.GetString(File.ReadAllBytes(gguf + ".inp")).Split(Separator);
        Assert.Equal("", inputs[^1]);
        var outputs = File.ReadAllText(gguf + ".out").Split('\n');
        var cases = new (string, int[])[inputs.Length - 1];
        for (var i = 0; i < cases.Length; i++)
        {
            var ids = outputs[i].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
            cases[i] = (inputs[i], ids);
        }
        return cases;
    }

    [SharedTheory]
    [MemberData(nameof(Cases))]
    public void MatchesLlamaCpp(string vocab, int index)
    {
        var path = SharedFiles.GoldenFile("vocab", vocab);
        var (input, expected) = ReadCases(path)[index];
        var tokenizer = TokenizerCache.Vocab(vocab);
        var actual = tokenizer.Encode(input, addSpecial: false, parseSpecial: false);
        Assert.True(expected.SequenceEqual(actual),
            $"{vocab} case {index} {Escape(input)}\n expected [{string.Join(' ', expected)}]\n actual   [{string.Join(' ', actual)}]");
    }

    [SharedFact]
    public void EveryVocabHas46Cases()
    {
        var files = Directory.GetFiles(SharedFiles.GoldenFile("vocab"), "*.gguf");
        Assert.Equal(10, files.Length);
        foreach (var f in files) Assert.Equal(46, ReadCases(f).Length);
    }

    [SharedTheory]
    [InlineData("ggml-vocab-bert-bge.gguf", 2)]
    [InlineData("ggml-vocab-deepseek-coder.gguf", 1)]
    [InlineData("ggml-vocab-deepseek-llm.gguf", 1)]
    [InlineData("ggml-vocab-falcon.gguf", 0)]
    [InlineData("ggml-vocab-gpt-2.gguf", 0)]
    [InlineData("ggml-vocab-llama-spm.gguf", 1)]
    [InlineData("ggml-vocab-mpt.gguf", 0)]
    [InlineData("ggml-vocab-phi-3.gguf", 1)]
    [InlineData("ggml-vocab-refact.gguf", 0)]
    [InlineData("ggml-vocab-starcoder.gguf", 0)]
    public void AddSpecialAddsWhatLlamaCppAdds(string vocab, int added)
    {
        var tokenizer = TokenizerCache.Vocab(vocab);
        const string text = "Hello world";
        var plain = tokenizer.Encode(text, addSpecial: false, parseSpecial: false);
        var special = tokenizer.Encode(text, addSpecial: true, parseSpecial: false);
        Assert.Equal(plain.Length + added, special.Length);
    }

    private static string Escape(string s) =>
        "\"" + s.Replace("\\", "\\\\").Replace("\n", "\\n").Replace("\t", "\\t").Replace("\r", "\\r") + "\"";
}
