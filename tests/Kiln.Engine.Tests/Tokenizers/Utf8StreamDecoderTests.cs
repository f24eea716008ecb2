using System.Text;
using Kiln.Engine.Tokenizers;

namespace Kiln.Engine.Tests.Tokenizers;

public class Utf8StreamDecoderTests
{
    [Fact]
    public void HoldsBackAnIncompleteCharacterUntilItCompletes()
    {
        var d = new Utf8StreamDecoder();
        var smile = Encoding.UTF8.GetBytes("😀"); // F0 9F 98 80
        Assert.Equal("", d.Append(smile.AsSpan(0, 1)));
        Assert.Equal("", d.Append(smile.AsSpan(1, 2)));
        Assert.Equal("😀", d.Append(smile.AsSpan(3, 1)));
        Assert.Equal("", d.Flush());
    }

    [Fact]
    public void EmitsTheCompletePartAndKeepsTheTail()
    {
        var d = new Utf8StreamDecoder();
        var bytes = Encoding.UTF8.GetBytes("née"); // 6E C3 A9 65
        Assert.Equal("n", d.Append(bytes.AsSpan(0, 2)));
        Assert.Equal("ée", d.Append(bytes.AsSpan(2)));
    }

    [Fact]
    public void InvalidBytesBecomeReplacementCharacters()
    {
        var d = new Utf8StreamDecoder();
        Assert.Equal("a\uFFFDb", d.Append([0x61, 0xFF, 0x62]));
        Assert.Equal("", d.Append([0xE2, 0x82]));  // an incomplete euro sign...
        Assert.Equal("\uFFFD", d.Flush());          // ...that never completes
        Assert.Equal("x", d.Append("x"u8));          // flushing starts a fresh stream
    }

    [Fact]
    public void AnInterruptedSequenceIsReplacedAndTheNewCharacterKept()
    {
        var d = new Utf8StreamDecoder();
        Assert.Equal("", d.Append([0xF0, 0x9F]));
        Assert.Equal("\uFFFDA", d.Append("A"u8));
    }

    [Fact]
    public void ByteAtATimeNeverSplitsACharacter()
    {
        const string text = "Grüße, 世界! 🦙🚀 ok";
        var d = new Utf8StreamDecoder();
        var output = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            var piece = d.Append([b]);
            Assert.False(piece.Length > 0 && char.IsHighSurrogate(piece[^1]), "emitted half a surrogate pair");
            Assert.DoesNotContain('\uFFFD', piece);
            output.Append(piece);
        }
        output.Append(d.Flush());
        Assert.Equal(text, output.ToString());
    }

    [SharedFact]
    public void StreamsEmojiSplitAcrossByteTokens()
    {
        var t = TokenizerCache.Model("stories260K.gguf");
        var ids = t.Encode("Hi 😀!", addSpecial: true, parseSpecial: false);
        var d = new Utf8StreamDecoder();
        var pieces = ids.Select(id => d.Append(t.TokenBytes(id))).ToList();
        pieces.Add(d.Flush());
        Assert.Equal(" Hi 😀!", string.Concat(pieces));
        Assert.DoesNotContain(pieces, p => p.Contains('\uFFFD'));
        var first = Array.FindIndex(ids, id => t.Kind(id) == TokenKind.Byte);
        Assert.Equal(["", "", "", "😀"], pieces.Skip(first).Take(4));
    }
}
