using Kiln.Core.ModelFiles;

namespace Kiln.Core.Tests.ModelFiles;

public class ByteRangeTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void No_range_is_the_whole_file(string? header)
    {
        Assert.Same(RangeRequest.Whole, ByteRange.Parse(header, 1000));
    }

    [Theory]
    [InlineData("bytes=0-99", 0, 99)]
    [InlineData("bytes=500-", 500, 999)]
    [InlineData("bytes=-100", 900, 999)]
    [InlineData("bytes=-5000", 0, 999)]
    [InlineData("bytes=990-2000", 990, 999)]
    [InlineData("BYTES=999-999", 999, 999)]
    public void One_satisfiable_range_is_served(string header, long first, long last)
    {
        var request = ByteRange.Parse(header, 1000);
        Assert.Null(request.Error);
        Assert.Equal(new ByteRange(first, last), request.Range);
        Assert.Equal(last - first + 1, request.Range!.Value.Length);
    }

    [Fact]
    public void Content_range_values_follow_the_rfc()
    {
        Assert.Equal("bytes 100-199/1000", new ByteRange(100, 199).ContentRange(1000));
        Assert.Equal("bytes */1000", ByteRange.Unsatisfied(1000));
    }

    [Theory]
    [InlineData("bytes=1000-", "past the end")]
    [InlineData("bytes=5000-6000", "past the end")]
    [InlineData("bytes=5-3", "ends before it starts")]
    [InlineData("bytes=0-1,5-6", "only one range")]
    [InlineData("items=0-1", "only byte ranges")]
    [InlineData("bytes=abc-", "whole bytes")]
    [InlineData("bytes=-", "whole bytes")]
    [InlineData("bytes=+1-2", "whole bytes")]
    [InlineData("bytes=12", "first-last")]
    [InlineData("bytes=-0", "selects no bytes")]
    public void Bad_ranges_are_refused_with_the_reason(string header, string reason)
    {
        var request = ByteRange.Parse(header, 1000);
        Assert.Null(request.Range);
        Assert.Contains(reason, request.Error);
    }

    [Fact]
    public void Nothing_of_an_empty_file_can_be_asked_for()
    {
        Assert.NotNull(ByteRange.Parse("bytes=0-", 0).Error);
        Assert.NotNull(ByteRange.Parse("bytes=-1", 0).Error);
    }
}
