using Kiln.Core.Time;

namespace Kiln.Core.Tests;

// Cases mirror the table Go's own time package tests ParseDuration with.
public class GoDurationParseTests
{
    private const long Ns = 1, Us = 1000, Ms = 1_000_000, S = 1_000_000_000, M = 60 * S, H = 60 * M;

    public static TheoryData<string, long> Valid => new()
    {
        { "0", 0 }, { "5s", 5 * S }, { "30s", 30 * S }, { "1478s", 1478 * S },
        { "-5s", -5 * S }, { "+5s", 5 * S }, { "-0", 0 }, { "+0", 0 },
        { "5.0s", 5 * S }, { "5.6s", 5 * S + 600 * Ms }, { "5.s", 5 * S }, { ".5s", 500 * Ms },
        { "1.0s", S }, { "1.00s", S }, { "1.004s", S + 4 * Ms }, { "1.0040s", S + 4 * Ms },
        { "100.00100s", 100 * S + Ms },
        { "10ns", 10 * Ns }, { "11us", 11 * Us }, { "12\u00b5s", 12 * Us }, { "12\u03bcs", 12 * Us },
        { "13ms", 13 * Ms }, { "14s", 14 * S }, { "15m", 15 * M }, { "16h", 16 * H },
        { "3h30m", 3 * H + 30 * M }, { "10.5s4m", 4 * M + 10 * S + 500 * Ms },
        { "-2m3.4s", -(2 * M + 3 * S + 400 * Ms) },
        { "1h2m3s4ms5us6ns", H + 2 * M + 3 * S + 4 * Ms + 5 * Us + 6 * Ns },
        { "39h9m14.425s", 39 * H + 9 * M + 14 * S + 425 * Ms },
        { "52763797000ns", 52763797000 },
        { "0.3333333333333333333h", 20 * M },
        { "9007199254740993ns", (1L << 53) + 1 },
        { "9223372036854775807ns", long.MaxValue },
        { "9223372036854775.807us", long.MaxValue },
        { "9223372036s854ms775us807ns", long.MaxValue },
        { "-9223372036854775808ns", long.MinValue },
        { "-9223372036854775.808us", long.MinValue },
        { "-9223372036s854ms775us808ns", long.MinValue },
        { "-2562047h47m16.854775808s", long.MinValue },
        { "0.100000000000000000000h", 6 * M },
        { "0.830103483285477580700h", 49 * M + 48 * S + 372539827 },
        { "1h30m", H + 30 * M }, { "90s", 90 * S }, { "500ms", 500 * Ms }, { "1.5h", H + 30 * M },
        { "2h45m30.5s", 2 * H + 45 * M + 30 * S + 500 * Ms }, { "-1s", -S }, { "168h", 168 * H },
    };

    [Theory]
    [MemberData(nameof(Valid))]
    public void Parses_like_go(string input, long nanoseconds)
    {
        Assert.True(GoDuration.TryParseNanoseconds(input, out var actual, out var error), error);
        Assert.Equal(nanoseconds, actual);
    }

    public static TheoryData<string, string> Invalid => new()
    {
        { "", "time: invalid duration \"\"" },
        { "3", "time: missing unit in duration \"3\"" },
        { "10", "time: missing unit in duration \"10\"" },
        { "-", "time: invalid duration \"-\"" },
        { "s", "time: invalid duration \"s\"" },
        { ".", "time: invalid duration \".\"" },
        { "-.", "time: invalid duration \"-.\"" },
        { ".s", "time: invalid duration \".s\"" },
        { "+.s", "time: invalid duration \"+.s\"" },
        { "abc", "time: invalid duration \"abc\"" },
        { "1d", "time: unknown unit \"d\" in duration \"1d\"" },
        { "1x", "time: unknown unit \"x\" in duration \"1x\"" },
        { "1h 30m", "time: unknown unit \"h \" in duration \"1h 30m\"" },
        { "1S", "time: unknown unit \"S\" in duration \"1S\"" },
        { "1\u00b5", "time: unknown unit \"\\xc2\\xb5\" in duration \"1\\xc2\\xb5\"" },
        { "\ufffd", "time: invalid duration \"\\xef\\xbf\\xbd\"" },
        { "\ufffd hello \ufffd world", "time: invalid duration \"\\xef\\xbf\\xbd hello \\xef\\xbf\\xbd world\"" },
        { "a\"b\\", "time: invalid duration \"a\\\"b\\\\\"" },
        { "9223372036854775810ns", "time: invalid duration \"9223372036854775810ns\"" },
        { "9223372036854775808ns", "time: invalid duration \"9223372036854775808ns\"" },
        { "-9223372036854775809ns", "time: invalid duration \"-9223372036854775809ns\"" },
        { "9223372036854776us", "time: invalid duration \"9223372036854776us\"" },
        { "3000000h", "time: invalid duration \"3000000h\"" },
        { "9223372036854775.808us", "time: invalid duration \"9223372036854775.808us\"" },
        { "9223372036854ms775us808ns", "time: invalid duration \"9223372036854ms775us808ns\"" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Rejects_with_gos_message(string input, string message)
    {
        Assert.False(GoDuration.TryParseNanoseconds(input, out _, out var error));
        Assert.Equal(message, error);
        var thrown = Assert.Throws<FormatException>(() => GoDuration.Parse(input));
        Assert.Equal(message, thrown.Message);
    }

    [Fact]
    public void TimeSpan_parse_truncates_below_a_tick()
    {
        Assert.Equal(TimeSpan.Zero, GoDuration.Parse("99ns"));
        Assert.Equal(TimeSpan.FromTicks(1), GoDuration.Parse("199ns"));
        Assert.Equal(TimeSpan.FromMinutes(90), GoDuration.Parse("1h30m"));
    }

    [Theory]
    [InlineData("0", true)]
    [InlineData("1h", true)]
    [InlineData("-0", true)]
    [InlineData("-1s", false)]
    [InlineData("-1ns", false)]
    public void Non_negative_validator(string input, bool ok)
    {
        Assert.Equal(ok, GoDuration.TryParseNonNegative(input, out _, out var error));
        if (!ok)
        {
            Assert.Equal($"invalid duration \"{input}\": must not be negative", error);
        }
    }

    [Fact]
    public void Non_negative_validator_passes_go_errors_through()
    {
        Assert.False(GoDuration.TryParseNonNegative("10", out _, out var error));
        Assert.Equal("time: missing unit in duration \"10\"", error);
    }
}
