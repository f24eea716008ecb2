using Kiln.Engine.Tokenizers;

namespace Kiln.Engine.Tests.Tokenizers;

public class SpecialTokenTests
{
    [SharedFact]
    public void ParseSpecialTurnsControlTextIntoTokens()
    {
        var t = TokenizerCache.Vocab("ggml-vocab-gpt-2.gguf");
        const string text = "Hi<|endoftext|>there";
        var parsed = t.Encode(text, addSpecial: false, parseSpecial: true);
        Assert.Equal([.. t.Encode("Hi", false, false), 50256, .. t.Encode("there", false, false)], parsed);

        var literal = t.Encode(text, addSpecial: false, parseSpecial: false);
        Assert.DoesNotContain(50256, literal);
        Assert.Equal("<|endoftext|>", string.Concat(literal.Select(t.TokenPiece)).Substring(2, 13));
    }

    [SharedFact]
    public void LongestSpecialTokenWins()
    {
        // Overlapping candidates such as <issue_comment> and <issue_closed> must each match whole.
        var t = TokenizerCache.Vocab("ggml-vocab-starcoder.gguf");
        var ids = t.Encode("<issue_comment><issue_closed><fim_prefix>", addSpecial: false, parseSpecial: true);
        Assert.Equal(["<issue_comment>", "<issue_closed>", "<fim_prefix>"], ids.Select(t.TokenPiece));
    }

    [SharedFact]
    public void UserDefinedTokensAreSplitEvenWithoutParseSpecial()
    {
        // mpt stores runs of spaces as user-defined tokens; llama.cpp always splits them out first.
        var t = TokenizerCache.Vocab("ggml-vocab-mpt.gguf");
        var run = new string(' ', 24);
        var id = t.Encode("a" + run + "b", addSpecial: false, parseSpecial: false);
        Assert.Contains(id, i => t.TokenPiece(i) == run && t.Kind(i) == TokenKind.UserDefined);
    }

    [SharedFact]
    public void SentencePieceAddsSpacePrefixAfterSpecialTokens()
    {
        var t = TokenizerCache.Model("stories260K.gguf");
        var ids = t.Encode("<s>Hi</s>Hi", addSpecial: false, parseSpecial: true);
        Assert.Equal(1, ids[0]);
        var hi = t.Encode("Hi", addSpecial: false, parseSpecial: false); // "▁Hi" pieces
        Assert.Equal([1, .. hi, 2, .. hi], ids);
    }

    [SharedFact]
    public void Phi3SpecialTokensStripFollowingSpaces()
    {
        var t = TokenizerCache.Vocab("ggml-vocab-phi-3.gguf");
        var withSpace = t.Encode("<|user|> Hi", addSpecial: false, parseSpecial: true);
        var without = t.Encode("<|user|>Hi", addSpecial: false, parseSpecial: true);
        Assert.Equal(without, withSpace);
    }

    [SharedFact]
    public void AddSpecialAddsBosAndNeverEosByDefault()
    {
        var t = TokenizerCache.Model("stories260K.gguf");
        Assert.True(t.AddBos);
        Assert.False(t.AddEos);
        Assert.Equal([1], t.Encode("", addSpecial: true, parseSpecial: false));
        Assert.Empty(t.Encode("", addSpecial: false, parseSpecial: false));
        var ids = t.Encode("Hi", addSpecial: true, parseSpecial: false);
        Assert.Equal(1, ids[0]);
        Assert.NotEqual(2, ids[^1]);
    }

    [SharedFact]
    public void WordPieceAddsClsAndSep()
    {
        var t = TokenizerCache.Vocab("ggml-vocab-bert-bge.gguf");
        var ids = t.Encode("Hello world", addSpecial: true, parseSpecial: false);
        Assert.Equal(101, ids[0]);
        Assert.Equal(102, ids[^1]);
        Assert.Equal(["[CLS]", "▁hello", "▁world", "[SEP]"], ids.Select(t.TokenPiece));
        Assert.Equal(" hello world", string.Concat(ids.Select(id => System.Text.Encoding.UTF8.GetString(t.TokenBytes(id)))));
    }

    [SharedFact]
    public void EndOfGenerationIncludesEosAndChatEndTokens()
    {
        var phi3 = TokenizerCache.Vocab("ggml-vocab-phi-3.gguf");
        var end = phi3.EndOfGenerationIds;
        Assert.Contains(phi3.EosId!.Value, end);
        Assert.Contains(32007, end); // <|end|>
        Assert.Equal("<|end|>", phi3.TokenPiece(32007));
        Assert.Equal(TokenKind.Control, phi3.Kind(32007));

        var deepseek = TokenizerCache.Vocab("ggml-vocab-deepseek-llm.gguf");
        Assert.Contains(100001, deepseek.EndOfGenerationIds); // <｜end▁of▁sentence｜>
    }

    [SharedFact]
    public void ControlTokensPrintAsNothing()
    {
        var t = TokenizerCache.Vocab("ggml-vocab-gpt-2.gguf");
        Assert.True(t.TokenBytes(50256).IsEmpty);
        Assert.Equal(" Hello"u8.ToArray(), t.TokenBytes(t.Encode(" Hello", false, false).Single()).ToArray());
    }
}
