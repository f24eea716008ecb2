using System.Text;
using System.Text.Json;
using Kiln.Engine.Tokenizers;

namespace Kiln.Engine.Tests.Tokenizers;

/// <summary>Prompt tokens and detokenized greedy text from the model logit goldens.</summary>
public class ModelGoldenTests
{
    public static TheoryData<string> Goldens() =>
    [
        "stories260K.gguf.json",
        "TinyStories-656K-Q8_0.gguf.json",
        "TinyStories-656K-Q2_K.gguf.json",
        "synth-15m-q4_0.gguf.json",
        "synth-15m-q4_k_m.gguf.json",
    ];

    private static (ITokenizer Tokenizer, JsonElement Root) Load(string golden)
    {
        var root = JsonDocument.Parse(File.ReadAllBytes(SharedFiles.GoldenFile(golden))).RootElement;
        return (TokenizerCache.Model(root.GetProperty("model").GetString()!), root);
    }

    private static int[] Ints(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetInt32())];

    [SharedTheory]
    [MemberData(nameof(Goldens))]
    public void PromptTokensMatch(string golden)
    {
        var (tokenizer, root) = Load(golden);
        foreach (var c in root.GetProperty("cases").EnumerateArray())
        {
            var prompt = c.GetProperty("prompt").GetString()!;
            var expected = Ints(c.GetProperty("prompt_tokens"));
            var actual = tokenizer.Encode(prompt, addSpecial: true, parseSpecial: false);
            Assert.True(expected.SequenceEqual(actual),
                $"{golden} \"{prompt}\"\n expected [{string.Join(' ', expected)}]\n actual   [{string.Join(' ', actual)}]");
        }
    }

    [SharedTheory]
    [MemberData(nameof(Goldens))]
    public void UnsupportedPromptsFailCleanlyOrMapToUnknown(string golden)
    {
        var (tokenizer, root) = Load(golden);
        foreach (var u in root.GetProperty("unsupported_prompts").EnumerateArray())
        {
            var prompt = u.GetProperty("prompt").GetString()!;
            try
            {
                var ids = tokenizer.Encode(prompt, addSpecial: true, parseSpecial: false);
                Assert.Contains(0, ids);
                Assert.All(ids, id => Assert.InRange(id, 0, tokenizer.VocabSize - 1));
            }
            catch (TokenizationException e)
            {
                Assert.Contains("U+", e.Message);
            }
        }
    }

    [SharedTheory]
    [MemberData(nameof(Goldens))]
    public void GreedyTokensDecodeToGreedyText(string golden)
    {
        var (tokenizer, root) = Load(golden);
        foreach (var c in root.GetProperty("cases").EnumerateArray())
        {
            var expected = c.GetProperty("greedy_text").GetString()!;
            var bytes = new List<byte>();
            var stream = new Utf8StreamDecoder();
            var streamed = new StringBuilder();
            foreach (var id in Ints(c.GetProperty("greedy_tokens")))
            {
                bytes.AddRange(tokenizer.TokenBytes(id));
                streamed.Append(stream.Append(tokenizer.TokenBytes(id)));
            }
            streamed.Append(stream.Flush());
            Assert.Equal(expected, Encoding.UTF8.GetString([.. bytes]));
            Assert.Equal(expected, streamed.ToString());
        }
    }

    [SharedFact]
    public void TinyStoriesTieBreakingMatchesLlamaCpp()
    {
        var t = TokenizerCache.Model("TinyStories-656K-Q8_0.gguf");
        Assert.Equal([1, 80, 147, 201, 282, 57], t.Encode("Once upon a time", addSpecial: true, parseSpecial: false));
        Assert.Equal(["▁", "On", "ce▁", "upon▁a▁tim", "e"], new[] { 80, 147, 201, 282, 57 }.Select(t.TokenPiece));
    }

    [SharedFact]
    public void TinyStoriesMapsUnrepresentableCharactersToUnknown()
    {
        var t = TokenizerCache.Model("TinyStories-656K-Q8_0.gguf");
        var ids = t.Encode("a\tb", addSpecial: false, parseSpecial: false);
        Assert.Contains(0, ids);
        Assert.Equal(TokenKind.Control, t.Kind(0));
        Assert.True(t.TokenBytes(0).IsEmpty);
    }

    [SharedFact]
    public void Stories260KFallsBackToBytes()
    {
        var t = TokenizerCache.Model("stories260K.gguf");
        var ids = t.Encode("😀", addSpecial: false, parseSpecial: false);
        // "▁" then the four UTF-8 bytes of U+1F600 as <0xXX> tokens.
        Assert.Equal(5, ids.Length);
        Assert.Equal(["<0xF0>", "<0x9F>", "<0x98>", "<0x80>"], ids[1..].Select(t.TokenPiece));
        Assert.All(ids[1..], id => Assert.Equal(TokenKind.Byte, t.Kind(id)));
        Assert.Equal(" 😀", Encoding.UTF8.GetString([.. ids.SelectMany(id => t.TokenBytes(id).ToArray())]));
    }
}
