using Kiln.Cli.Formatting;
using static Kiln.Cli.Formatting.GoDuration;

namespace Kiln.Cli.Tests;

public class ProtoDurationTests
{
    [Theory]
    [InlineData(5400 * Second, "5400s")]
    [InlineData(500 * Millisecond, "0.500s")]
    [InlineData(0, "0s")]
    [InlineData(30 * Second, "30s")]
    [InlineData(604800 * Second, "604800s")]
    [InlineData(1500 * Nanosecond, "0.000001500s")]
    [InlineData(1500 * Microsecond, "0.001500s")]
    [InlineData(Second + 1, "1.000000001s")]
    public void FormatsSecondsWithThreeSixOrNineDigits(long ns, string expected) => Assert.Equal(expected, ProtoDuration.Format(ns));

    [Theory]
    [InlineData("600s", "10m0s")]
    [InlineData("3600s", "1h0m0s")]
    [InlineData("30s", "30s")]
    [InlineData("0.5s", "500ms")]
    [InlineData("604800s", "168h0m0s")]
    [InlineData("5400.000s", "1h30m0s")]
    [InlineData("0s", "0s")]
    public void PrintsApiDurationsTheGoWay(string api, string go) => Assert.Equal(go, ProtoDuration.ToGo(api));

    [Theory]
    [InlineData("abc")]
    [InlineData("5")]
    [InlineData("s")]
    [InlineData("1.s")]
    [InlineData("1.0000000001s")]
    [InlineData("1m")]
    public void RejectsMalformedApiDurations(string text) => Assert.False(ProtoDuration.TryParse(text, out _));

    [Fact]
    public void UnparseableApiDurationIsShownAsIs() => Assert.Equal("weird", ProtoDuration.ToGo("weird"));
}
