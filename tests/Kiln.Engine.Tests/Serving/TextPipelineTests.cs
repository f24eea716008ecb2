using System.Text;
using Kiln.Engine.Serving;

namespace Kiln.Engine.Tests.Serving;

public class TextPipelineTests
{
    [Fact]
    public void Utf8_accumulator_never_splits_a_character()
    {
        var acc = new Utf8Accumulator();
        var bytes = Encoding.UTF8.GetBytes("a€😀b");
        var parts = new List<string>();
        foreach (var b in bytes) parts.Add(new string(acc.Append([b])));
        Assert.Equal("a€😀b", string.Concat(parts));
        Assert.Equal(["a", "", "", "€", "", "", "", "😀", "b"], parts);
        Assert.Equal("", new string(acc.Flush()));
    }

    [Fact]
    public void Utf8_accumulator_replaces_invalid_and_dangling_bytes()
    {
        var acc = new Utf8Accumulator();
        Assert.Equal("\uFFFDx", new string(acc.Append([0xFF, (byte)'x'])));
        Assert.Equal("", new string(acc.Append([0xE2, 0x82])));
        Assert.Equal("\uFFFD", new string(acc.Flush()));
    }

    [Fact]
    public void Stop_string_spanning_pushes_is_cut_exactly()
    {
        var m = new StopMatcher(["END"]);
        var output = new StringBuilder();
        foreach (var piece in new[] { "hel", "lo E", "N", "D tail" })
        {
            output.Append(m.Push(piece, out var stopped));
            if (stopped) break;
        }
        Assert.Equal("hello ", output.ToString());
    }

    [Fact]
    public void Possible_prefix_is_held_then_released_when_it_is_not_a_stop()
    {
        var m = new StopMatcher(["END"]);
        Assert.Equal("ab", m.Push("abE", out _));
        Assert.Equal(1, m.Held);
        Assert.Equal("", m.Push("N", out _));
        Assert.Equal(2, m.Held);
    }

    [Fact]
    public void Held_text_is_released_on_mismatch_and_on_flush()
    {
        var m = new StopMatcher(["END"]);
        Assert.Equal("", m.Push("EN", out _));
        Assert.Equal("ENx", m.Push("x", out var stopped));
        Assert.False(stopped);
        Assert.Equal("", m.Push("E", out _));
        Assert.Equal("E", m.Flush());
    }

    [Fact]
    public void Earliest_of_several_stops_wins()
    {
        var m = new StopMatcher(["world", "lo w"]);
        Assert.Equal("hel", m.Push("hello world", out var stopped));
        Assert.True(stopped);
    }

    [Fact]
    public void Without_stops_text_passes_straight_through()
    {
        var m = new StopMatcher([]);
        Assert.Equal("abc", m.Push("abc", out var stopped));
        Assert.False(stopped);
        Assert.Equal(3, m.Released);
    }
}
