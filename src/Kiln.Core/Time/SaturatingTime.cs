namespace Kiln.Core.Time;

/// <summary>Instant arithmetic that stops at the ends of <see cref="DateTimeOffset"/> instead of throwing.</summary>
/// <remarks>Windows and durations may be as long as protobuf allows (10,000 years), past the calendar's end.</remarks>
internal static class SaturatingTime
{
    /// <summary><paramref name="t"/> − <paramref name="span"/> (span ≥ 0), or the earliest instant.</summary>
    public static DateTimeOffset Minus(DateTimeOffset t, TimeSpan span) =>
        span > t - DateTimeOffset.MinValue ? DateTimeOffset.MinValue : t - span;

    /// <summary><paramref name="t"/> + <paramref name="span"/> (span ≥ 0), or the latest instant.</summary>
    public static DateTimeOffset Plus(DateTimeOffset t, TimeSpan span) =>
        span > DateTimeOffset.MaxValue - t ? DateTimeOffset.MaxValue : t + span;
}
