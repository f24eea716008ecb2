using Kiln.Core.Billing;

namespace Kiln.Core.Tests.Billing;

public class UsageBucketsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 21, 9, 30, 0, TimeSpan.Zero);

    [Fact]
    public void Buckets_start_on_whole_seconds_and_minutes()
    {
        var t = T0 + TimeSpan.FromMilliseconds(42_750);
        Assert.Equal(T0 + TimeSpan.FromSeconds(42), UsageBuckets.SecondOf(t));
        Assert.Equal(T0, UsageBuckets.MinuteOf(t));
        // An offset time is bucketed in UTC.
        Assert.Equal(T0 + TimeSpan.FromSeconds(42), UsageBuckets.SecondOf(t.ToOffset(TimeSpan.FromHours(5.5))));
    }

    [Fact]
    public void Roll_up_leaves_the_last_day_per_second_and_cuts_on_a_minute()
    {
        var now = T0 + TimeSpan.FromSeconds(95);
        Assert.Equal(T0 - TimeSpan.FromDays(1) + TimeSpan.FromMinutes(1), UsageBuckets.RollUpBefore(now));
    }
}
