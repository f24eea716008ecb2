using Kiln.Core.Billing;

namespace Kiln.Core.Tests.Billing;

public class SpendLimitTests
{
    [Fact]
    public void No_limit_is_never_over() =>
        Assert.Equal(new SpendCheck(false, null), SpendLimit.Check(1_000_000m, 1m, null));

    [Theory]
    [InlineData("12.40", "0.09", false)]
    [InlineData("12.40", "0.10", true)] // reaching the limit counts
    [InlineData("12.50", "0", true)]
    [InlineData("13", "0", true)]
    [InlineData("0", "0", false)]
    public void Spent_plus_projected_reaching_the_limit_is_over(string spent, string projected, bool over)
    {
        var check = SpendLimit.Check(decimal.Parse(spent), decimal.Parse(projected), 12.50m);
        Assert.Equal(over, check.OverLimit);
        Assert.Equal(over, check.Reason is not null);
    }

    [Fact]
    public void Reason_shows_the_figures()
    {
        var check = SpendLimit.Check(12.4m, 0.1234m, 12.5m);
        Assert.Equal("spend limit reached: $12.40 spent + $0.1234 projected >= limit $12.50", check.Reason);
    }

    [Fact]
    public void A_zero_limit_allows_nothing() =>
        Assert.True(SpendLimit.Check(0m, 0m, 0m).OverLimit);

    [Fact]
    public void Negative_amounts_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SpendLimit.Check(-1m, 0m, 10m));
        Assert.Throws<ArgumentOutOfRangeException>(() => SpendLimit.Check(0m, -1m, 10m));
        Assert.Throws<ArgumentOutOfRangeException>(() => SpendLimit.Check(0m, 0m, -10m));
    }

    [Theory]
    [InlineData("0", "$0.00")]
    [InlineData("12.5", "$12.50")]
    [InlineData("0.000805", "$0.0008")]
    [InlineData("1234.5678", "$1234.5678")]
    public void Usd_formats_cents(string amount, string text) => Assert.Equal(text, SpendLimit.Usd(decimal.Parse(amount)));
}
