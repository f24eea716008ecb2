using Kiln.Server.Replica;

namespace Kiln.Server.Tests.Replica;

public class PromptEncodingTests
{
    [Fact]
    public void Bos_is_added_when_the_tokenizer_asks_but_never_doubled()
    {
        var withBos = new FakeTokenizer { AddBos = true };
        Assert.Equal([FakeTokenizer.Bos, 'h', 'i'], PromptEncoding.Encode(withBos, "hi"));
        Assert.Equal([FakeTokenizer.Bos, 'h', 'i'], PromptEncoding.Encode(withBos, "<s>hi")); // template wrote it
        Assert.Equal(['h', 'i'], PromptEncoding.Encode(new FakeTokenizer(), "hi"));
    }

    [Fact]
    public void Special_token_text_becomes_its_id()
    {
        Assert.Equal([FakeTokenizer.ImEnd, 'a'], PromptEncoding.Encode(new FakeTokenizer(), "<|im_end|>a"));
    }

    [Fact]
    public void Token_ids_decode_back_to_text()
    {
        Assert.Equal("h€", PromptEncoding.Decode(new FakeTokenizer(), [.. "h€"u8.ToArray().Select(b => (int)b), FakeTokenizer.Eos]));
    }
}
