using Kiln.Cli.Formatting;
using static Kiln.Cli.Formatting.GoDuration;

namespace Kiln.Cli.Tests;

/// <summary>Expected values are Go's own results for time.ParseDuration and Duration.String.</summary>
public class GoDurationTests
{
    public static TheoryData<string, long> ParseCases => new()
    {
        { "0", 0 },
        { "5s", 5 * Second },
        { "30s", 30 * Second },
        { "1478s", 1478 * Second },
        { "-5s", -5 * Second },
        { "+5s", 5 * Second },
        { "-0", 0 },
        { "+0", 0 },
        { "5.0s", 5 * Second },
        { "5.6s", 5 * Second + 600 * Millisecond },
        { "5.s", 5 * Second },
        { ".5s", 500 * Millisecond },
        { "1.004s", 1 * Second + 4 * Millisecond },
        { "100.00100s", 100 * Second + 1 * Millisecond },
        { "10ns", 10 },
        { "11us", 11 * Microsecond },
        { "12\u00b5s", 12 * Microsecond },
        { "12\u03bcs", 12 * Microsecond },
        { "13ms", 13 * Millisecond },
        { "500ms", 500 * Millisecond },
        { "15m", 15 * Minute },
        { "16h", 16 * Hour },
        { "1h30m", 90 * Minute },
        { "1.5h", 90 * Minute },
        { "90s", 90 * Second },
        { "10.5s4m", 4 * Minute + 10 * Second + 500 * Millisecond },
        { "-2m3.4s", -(2 * Minute + 3 * Second + 400 * Millisecond) },
        { "1h2m3s4ms5us6ns", 1 * Hour + 2 * Minute + 3 * Second + 4 * Millisecond + 5 * Microsecond + 6 },
        { "39h9m14.425s", 39 * Hour + 9 * Minute + 14 * Second + 425 * Millisecond },
        { "52763797000ns", 52763797000 },
        { "0.3333333333333333333h", 20 * Minute },
        { "9007199254740993ns", (1L << 53) + 1 },
        { "9223372036854775807ns", long.MaxValue },
        { "9223372036854775.807us", long.MaxValue },
        { "9223372036s854ms775us807ns", long.MaxValue },
        { "-9223372036854775808ns", long.MinValue },
        { "-9223372036854775.808us", long.MinValue },
        { "0.100000000000000000000h", 6 * Minute },
        { "0.830103483285477580700h", 49 * Minute + 48 * Second + 372539827 },
        { "168h", 168 * Hour },
    };

    [Theory]
    [MemberData(nameof(ParseCases))]
    public void ParsesLikeGo(string text, long expected)
    {
        Assert.True(TryParse(text, out var ns, out var error), error);
        Assert.Equal(expected, ns);
    }

    [Theory]
    [InlineData("", "time: invalid duration \"\"")]
    [InlineData("abc", "time: invalid duration \"abc\"")]
    [InlineData("3", "time: missing unit in duration \"3\"")]
    [InlineData("-", "time: invalid duration \"-\"")]
    [InlineData("s", "time: invalid duration \"s\"")]
    [InlineData(".", "time: invalid duration \".\"")]
    [InlineData("-.", "time: invalid duration \"-.\"")]
    [InlineData(".s", "time: invalid duration \".s\"")]
    [InlineData("+.s", "time: invalid duration \"+.s\"")]
    [InlineData("1d", "time: unknown unit \"d\" in duration \"1d\"")]
    [InlineData("1.2.3s", "time: missing unit in duration \"1.2.3s\"")]
    [InlineData("1h 30m", "time: unknown unit \"h \" in duration \"1h 30m\"")]
    [InlineData("9223372036854775810ns", "time: invalid duration \"9223372036854775810ns\"")]
    [InlineData("9223372036854775808ns", "time: invalid duration \"9223372036854775808ns\"")]
    [InlineData("-9223372036854775809ns", "time: invalid duration \"-9223372036854775809ns\"")]
    [InlineData("9223372036854775.808us", "time: invalid duration \"9223372036854775.808us\"")]
    [InlineData("3000000h", "time: invalid duration \"3000000h\"")]
    public void RejectsLikeGo(string text, string expectedError)
    {
        Assert.False(TryParse(text, out _, out var error));
        Assert.Equal(expectedError, error);
    }

    public static TheoryData<string, long> FormatCases => new()
    {
        { "0s", 0 },
        { "1ns", 1 },
        { "1.1\u00b5s", 1100 },
        { "2.2ms", 2200 * Microsecond },
        { "500ms", 500 * Millisecond },
        { "1.5s", 1500 * Millisecond },
        { "3.3s", 3300 * Millisecond },
        { "30s", 30 * Second },
        { "1m30s", 90 * Second },
        { "4m5s", 4 * Minute + 5 * Second },
        { "4m5.001s", 4 * Minute + 5001 * Millisecond },
        { "10m0s", 10 * Minute },
        { "1h0m0s", Hour },
        { "1h30m0s", 90 * Minute },
        { "168h0m0s", 168 * Hour },
        { "5h6m7.001s", 5 * Hour + 6 * Minute + 7001 * Millisecond },
        { "8m0.000000001s", 8 * Minute + 1 },
        { "-1m30s", -90 * Second },
        { "2562047h47m16.854775807s", long.MaxValue },
        { "-2562047h47m16.854775808s", long.MinValue },
    };

    [Theory]
    [MemberData(nameof(FormatCases))]
    public void FormatsLikeGo(string expected, long ns) => Assert.Equal(expected, Format(ns));

    [Theory]
    [InlineData("1h30m", "1h30m0s")]
    [InlineData("90s", "1m30s")]
    [InlineData("1.5h", "1h30m0s")]
    [InlineData("0", "0s")]
    [InlineData("10m", "10m0s")]
    public void RoundTripsToGoForm(string input, string printed) => Assert.Equal(printed, Format(Parse(input)));
}
