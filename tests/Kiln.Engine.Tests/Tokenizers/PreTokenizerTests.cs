using Kiln.Engine.Tokenizers;

namespace Kiln.Engine.Tests.Tokenizers;

/// <summary>
/// Word splits of the pre-tokenizers that the vocab vectors do not cover, checked against the
/// same regex lists evaluated by a reference regex engine.
/// </summary>
public class PreTokenizerTests
{
    private static string[] Split(string pre, string text)
    {
        var cps = text.EnumerateRunes().Select(r => r.Value).ToArray();
        var lengths = new List<int>();
        PreTokenizer.ForName(pre)!.Split(cps, lengths);
        var words = new List<string>();
        var at = 0;
        foreach (var len in lengths)
        {
            words.Add(string.Concat(cps[at..(at + len)].Select(char.ConvertFromUtf32)));
            at += len;
        }
        return [.. words];
    }

    [Fact]
    public void Llama3()
    {
        Assert.Equal(
            ["Hello", " world", "'s", " ", "123", "456", "7", " I", "'LL", " ", " go", "\n\n", " ", " x", "!!\r\n", " y"],
            Split("llama-bpe", "Hello world's 1234567 I'LL  go\n\n  x!!\r\n y"));
        Assert.Equal([" 😀😀", " ab", "\u00A0cd", "  ", "\u3000e"], Split("llama-bpe", " 😀😀 ab\u00A0cd  \u3000e"));
    }

    [Fact]
    public void Qwen2SplitsEveryDigit()
    {
        Assert.Equal(["Hi", " ", "2", "0", "2", "4", "年", " '", "Re", " ok", "?\n\n", "\tz"], Split("qwen2", "Hi 2024年 'Re ok?\n\n\tz"));
    }

    [Fact]
    public void Gpt2ContractionsAreLowercaseOnly()
    {
        Assert.Equal(["I", "'ve", " '", "RE", " ", " 3", ".", "14", "\t", "\t", "x", " "], Split("gpt-2", "I've 'RE  3.14\t\tx "));
    }

    [Fact]
    public void DeepseekLlmKeepsGreekExtendedAndSymbolCodePoints()
    {
        // U+1F7D, U+1FD3, U+2126 and U+212A are canonical singletons: they must stay distinct from
        // their NFC equivalents for DeepSeek's letter class ranges to be what its tokenizer defines.
        Assert.Equal(
            ["\u1F5F\u1F7D", " ", "\u1FD0\u1FD3", " ", "\u2126", "mega", " ", "\u212A", "elvin", " ", "中文", " ", "한국어", " ", "123", " ...!", " "],
            Split("deepseek-llm", "\u1F5F\u1F7D \u1FD0\u1FD3 \u2126mega \u212Aelvin 中文 한국어 123 ...! "));
    }

    [Fact]
    public void DeepseekLlmRangesNeverMatchNonAsciiWhitespace()
    {
        // llama.cpp turns non-ASCII whitespace into U+000B before matching explicit ranges, so the
        // ideographic space is not part of the CJK run (a plain regex engine would disagree).
        Assert.Equal(["a", "\u3000b", " \u3000", "中"], Split("deepseek-llm", "a\u3000b \u3000中"));
    }

    [Fact]
    public void EmptyTextHasNoWords() => Assert.Empty(Split("gpt-2", ""));
}
