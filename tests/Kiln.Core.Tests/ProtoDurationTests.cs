using Kiln.Core.Time;

namespace Kiln.Core.Tests;

public class ProtoDurationTests
{
    [Theory]
    [InlineData(600_000, "600s")]
    [InlineData(500, "0.500s")]
    [InlineData(1500, "1.500s")]
    [InlineData(0, "0s")]
    [InlineData(-1500, "-1.500s")]
    [InlineData(30_000, "30s")]
    public void Formats_with_0_3_6_or_9_fraction_digits(long ms, string expected) =>
        Assert.Equal(expected, ProtoDuration.Format(TimeSpan.FromMilliseconds(ms)));

    [Fact]
    public void Formats_micro_and_nano_precision()
    {
        Assert.Equal("0.000001s", ProtoDuration.Format(TimeSpan.FromMicroseconds(1)));
        Assert.Equal("1.000000100s", ProtoDuration.Format(TimeSpan.FromTicks(TimeSpan.TicksPerSecond + 1)));
    }

    [Theory]
    [InlineData("30s", 30_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("0.500s", 500)]
    [InlineData("600s", 600_000)]
    [InlineData("-2s", -2_000)]
    [InlineData("0s", 0)]
    [InlineData("3600.000000000s", 3_600_000)]
    public void Parses(string text, long ms) => Assert.Equal(TimeSpan.FromMilliseconds(ms), ProtoDuration.Parse(text));

    [Theory]
    [InlineData("")]
    [InlineData("30")]
    [InlineData("1m")]
    [InlineData("s")]
    [InlineData(".5s")]
    [InlineData("1.s")]
    [InlineData("1.0000000001s")]
    [InlineData("+1s")]
    [InlineData("1e3s")]
    [InlineData(" 1s")]
    [InlineData("315576000001s")]
    public void Rejects(string text)
    {
        Assert.False(ProtoDuration.TryParse(text, out _, out var error));
        Assert.Contains($"\"{text}\"", error);
    }

    [Fact]
    public void Round_trips_defaults()
    {
        foreach (var t in new[] { TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(10), TimeSpan.FromHours(1), TimeSpan.FromHours(168) })
        {
            Assert.Equal(t, ProtoDuration.Parse(ProtoDuration.Format(t)));
        }
    }
}
