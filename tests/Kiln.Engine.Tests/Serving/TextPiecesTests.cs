using Kiln.Engine.Serving;

namespace Kiln.Engine.Tests.Serving;

public class TextPiecesTests
{
    [Fact]
    public void A_repeated_piece_is_the_same_string()
    {
        var pieces = new TextPieces();
        var first = pieces.Get(" the".AsSpan());
        var again = pieces.Get(new[] { ' ', 't', 'h', 'e' });
        Assert.Equal(" the", first);
        Assert.Same(first, again);
    }

    [Fact]
    public void Every_piece_comes_back_with_its_own_text_even_when_slots_collide()
    {
        var pieces = new TextPieces();
        // Far more distinct pieces than the table holds, asked for twice in an interleaved order.
        var texts = Enumerable.Range(0, 20_000).Select(i => $"p{i}").ToArray();
        foreach (var t in texts) Assert.Equal(t, pieces.Get(t));
        foreach (var t in texts.Reverse()) Assert.Equal(t, pieces.Get(t));
    }

    [Fact]
    public void Long_and_empty_pieces_are_not_kept()
    {
        var pieces = new TextPieces();
        var longText = new string('x', 100);
        Assert.NotSame(pieces.Get(longText), pieces.Get(longText));
        Assert.Same(string.Empty, pieces.Get([]));
    }

    [Fact]
    public void A_stop_matcher_releases_shared_strings()
    {
        var pieces = new TextPieces();
        var a = new StopMatcher(["END"], pieces);
        var b = new StopMatcher([], pieces);
        var fromA = a.Push("hello".AsSpan(), out _);
        var fromB = b.Push("hello".AsSpan(), out _);
        Assert.Equal("hello", fromA);
        Assert.Same(fromA, fromB);
    }
}
