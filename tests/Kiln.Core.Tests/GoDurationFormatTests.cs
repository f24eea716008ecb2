using Kiln.Core.Time;

namespace Kiln.Core.Tests;

public class GoDurationFormatTests
{
    private const long Us = 1000, Ms = 1_000_000, S = 1_000_000_000, M = 60 * S, H = 60 * M;

    public static TheoryData<long, string> Cases => new()
    {
        { 0, "0s" }, { 1, "1ns" }, { 1100, "1.1\u00b5s" }, { 2200 * Us, "2.2ms" }, { 3300 * Ms, "3.3s" },
        { 4 * M + 5 * S, "4m5s" }, { 4 * M + 5001 * Ms, "4m5.001s" },
        { 5 * H + 6 * M + 7001 * Ms, "5h6m7.001s" }, { 8 * M + 1, "8m0.000000001s" },
        { long.MaxValue, "2562047h47m16.854775807s" }, { long.MinValue, "-2562047h47m16.854775808s" },
        { H, "1h0m0s" }, { 10 * M, "10m0s" }, { 30 * S, "30s" }, { 1500 * Ms, "1.5s" }, { 500 * Ms, "500ms" },
        { 168 * H, "168h0m0s" }, { -S, "-1s" }, { 999, "999ns" }, { 1000, "1\u00b5s" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Formats_like_go(long nanoseconds, string expected) =>
        Assert.Equal(expected, GoDuration.FormatNanoseconds(nanoseconds));

    [Fact]
    public void Formats_timespans()
    {
        Assert.Equal("1h0m0s", GoDuration.Format(TimeSpan.FromHours(1)));
        Assert.Equal("10m0s", GoDuration.Format(TimeSpan.FromMinutes(10)));
        Assert.Equal("30s", GoDuration.Format(TimeSpan.FromSeconds(30)));
        Assert.Equal("1.5s", GoDuration.Format(TimeSpan.FromSeconds(1.5)));
        Assert.Equal("500ms", GoDuration.Format(TimeSpan.FromMilliseconds(500)));
        Assert.Equal("0s", GoDuration.Format(TimeSpan.Zero));
        Assert.Equal("100ns", GoDuration.Format(TimeSpan.FromTicks(1)));
    }

    [Fact]
    public void Formats_timespans_beyond_gos_range_without_overflow() =>
        Assert.Equal("256204778h48m5.4775807s", GoDuration.Format(TimeSpan.MaxValue));

    [Theory]
    [InlineData("1h30m", "1h30m0s")]
    [InlineData("2h45m30.5s", "2h45m30.5s")]
    [InlineData("1.5s", "1.5s")]
    [InlineData("-3m0.001s", "-3m0.001s")]
    [InlineData("1.001ms", "1.001ms")]
    [InlineData("90s", "1m30s")]
    [InlineData("1.5h", "1h30m0s")]
    public void Parse_then_format_gives_gos_canonical_form(string text, string canonical) =>
        Assert.Equal(canonical, GoDuration.FormatNanoseconds(GoDuration.ParseNanoseconds(text)));
}
