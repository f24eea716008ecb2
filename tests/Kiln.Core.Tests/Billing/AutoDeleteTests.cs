using Kiln.Core.Billing;

namespace Kiln.Core.Tests.Billing;

public class AutoDeleteTests
{
    private static readonly DateTimeOffset Created = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Week = TimeSpan.FromHours(168);

    [Fact]
    public void Zero_disables()
    {
        var d = AutoDelete.Evaluate(TimeSpan.Zero, Created, null, Created.AddYears(5));
        Assert.Equal(new AutoDeleteDecision(false, null, "auto-delete disabled (unusedAutoDeleteDuration is 0)"), d);
    }

    [Fact]
    public void Never_requested_counts_from_creation()
    {
        var before = AutoDelete.Evaluate(Week, Created, null, Created + Week - TimeSpan.FromSeconds(1));
        Assert.False(before.ShouldDelete);
        Assert.Equal(Created + Week, before.DeleteAt);
        Assert.Equal("deleted at 2025-01-08T00:00:00Z if still unused (no request since creation at 2025-01-01T00:00:00Z; unusedAutoDeleteDuration 168h0m0s)", before.Reason);

        var at = AutoDelete.Evaluate(Week, Created, null, Created + Week);
        Assert.True(at.ShouldDelete);
        Assert.Equal("unused for 168h0m0s: no request since creation at 2025-01-01T00:00:00Z", at.Reason);
    }

    [Fact]
    public void A_request_restarts_the_clock()
    {
        var last = Created + TimeSpan.FromDays(3);
        Assert.False(AutoDelete.Evaluate(Week, Created, last, Created + Week + TimeSpan.FromDays(1)).ShouldDelete);
        var d = AutoDelete.Evaluate(Week, Created, last, last + Week);
        Assert.True(d.ShouldDelete);
        Assert.Equal(last + Week, d.DeleteAt);
        Assert.Equal("unused for 168h0m0s: last request at 2025-01-04T00:00:00Z", d.Reason);
    }

    [Fact]
    public void A_request_time_before_creation_counts_from_creation()
    {
        var d = AutoDelete.Evaluate(TimeSpan.FromMinutes(30), Created, Created - TimeSpan.FromHours(1), Created + TimeSpan.FromMinutes(29));
        Assert.False(d.ShouldDelete);
        Assert.Equal(Created + TimeSpan.FromMinutes(30), d.DeleteAt);
    }

    [Fact]
    public void Very_long_durations_do_not_overflow()
    {
        var d = AutoDelete.Evaluate(TimeSpan.FromDays(365 * 9000), Created, null, Created + Week);
        Assert.False(d.ShouldDelete);
        Assert.Equal(DateTimeOffset.MaxValue, d.DeleteAt);
    }

    [Fact]
    public void Negative_durations_are_rejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => AutoDelete.Evaluate(TimeSpan.FromSeconds(-1), Created, null, Created));
}
