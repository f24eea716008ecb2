namespace Kiln.Core.Billing;

/// <summary>
/// How served requests and tokens are kept: summed per second for <see cref="SecondsKeptFor"/>,
/// then rolled up into minutes. A usage window counts every bucket whose start it holds, so each
/// bucket falls in exactly one of any two adjacent windows and their sums add up to the enclosing
/// window's. Within the last day a window edge is exact to the second; further back, to the minute
/// (a minute split by an edge counts in the window holding its start).
/// </summary>
public static class UsageBuckets
{
    /// <summary>Width of a recent bucket.</summary>
    public static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    /// <summary>Width of a rolled-up bucket.</summary>
    public static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    /// <summary>How long per-second buckets are kept before they are rolled up into minutes.</summary>
    public static readonly TimeSpan SecondsKeptFor = TimeSpan.FromDays(1);

    /// <summary>The start of the second bucket holding <paramref name="time"/>.</summary>
    public static DateTimeOffset SecondOf(DateTimeOffset time) => Floor(time, Second);

    /// <summary>The start of the minute bucket holding <paramref name="time"/>.</summary>
    public static DateTimeOffset MinuteOf(DateTimeOffset time) => Floor(time, Minute);

    /// <summary>
    /// Second buckets that start before this instant are rolled up at <paramref name="now"/>: a
    /// minute boundary, so no minute is left split between the two resolutions.
    /// </summary>
    public static DateTimeOffset RollUpBefore(DateTimeOffset now) => MinuteOf(now - SecondsKeptFor);

    private static DateTimeOffset Floor(DateTimeOffset time, TimeSpan width)
    {
        var utc = time.ToUniversalTime();
        return new DateTimeOffset(utc.Ticks - (utc.Ticks % width.Ticks), TimeSpan.Zero);
    }
}
