using System.Text;
using Kiln.Engine.Tokenizers;

namespace Kiln.Engine.Tests.Tokenizers;

/// <summary>
/// <see cref="ITokenizer.EncodeAtMost"/> over every shared vocab: its length bound never exceeds the
/// real count, it accepts exactly the texts that fit, and what it accepts is Encode's output.
/// </summary>
public class BoundedEncodeTests
{
    private const string Separator = "\n__ggml_vocab_test__\n";

    public static TheoryData<string> Vocabs()
    {
        var data = new TheoryData<string>();
        if (SharedFiles.Root is null)
        {
            data.Add("(shared folder missing)");
            return data;
        }
        foreach (var gguf in Directory.GetFiles(SharedFiles.GoldenFile("vocab"), "*.gguf").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(gguf));
        return data;
    }

    private static IEnumerable<string> Texts(string vocab)
    {
        var path = SharedFiles.GoldenFile("vocab", vocab) + ".inp";
        var inputs = File.Exists(path) ? Encoding.UTF8.GetString(File.ReadAllBytes(path)).Split(Separator)[..^1] : [];
        var random = new Random(7);
        foreach (var input in inputs)
        {
            yield return input;
            yield return string.Concat(Enumerable.Repeat(input, 1 + random.Next(5)));
        }
        yield return "<s> hello</s><|im_start|>user\n   <|im_end|>   \n";
        yield return new string(' ', 300) + "<mask>" + new string(' ', 300);
        yield return string.Concat(Enumerable.Range(0, 200).Select(i => (char)random.Next(0x20, 0x3000)));
    }

    [SharedTheory]
    [MemberData(nameof(Vocabs))]
    public void AcceptsExactlyWhatFitsAndEncodesIdentically(string vocab)
    {
        var tokenizer = (TokenizerBase)TokenizerCache.Vocab(vocab);
        foreach (var text in Texts(vocab))
        {
            foreach (var parseSpecial in (bool[])[false, true])
            {
                var full = tokenizer.Encode(text, addSpecial: true, parseSpecial);
                Assert.True(tokenizer.MinTokens(text) <= full.Length, $"{vocab}: bound {tokenizer.MinTokens(text)} > {full.Length} for '{text}'");
                Assert.Equal(full, tokenizer.EncodeAtMost(text, addSpecial: true, parseSpecial, full.Length));
                Assert.Equal(full, tokenizer.EncodeAtMost(text, addSpecial: true, parseSpecial, int.MaxValue));
                if (full.Length > 0) Assert.Null(tokenizer.EncodeAtMost(text, addSpecial: true, parseSpecial, full.Length - 1));
            }
        }
    }

    [SharedFact]
    public void AHugeTextIsRefusedByItsLengthAlone()
    {
        var tokenizer = (TokenizerBase)TokenizerCache.Vocab("ggml-vocab-llama-spm.gguf");
        var text = string.Concat(Enumerable.Repeat("word ", 1 << 20));
        Assert.True(tokenizer.MinTokens(text) > 512);
        Assert.Null(tokenizer.EncodeAtMost(text, addSpecial: false, parseSpecial: true, 512));
    }
}
