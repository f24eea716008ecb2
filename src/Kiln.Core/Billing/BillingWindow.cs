namespace Kiln.Core.Billing;

/// <summary>A half-open query window [<see cref="Start"/>, <see cref="End"/>) for usage and cost.</summary>
/// <remarks>Half-open, so adjacent windows (days, months) add up without counting an instant twice.</remarks>
public readonly record struct BillingWindow
{
    /// <summary>A window; <paramref name="end"/> must not precede <paramref name="start"/>.</summary>
    public BillingWindow(DateTimeOffset start, DateTimeOffset end)
    {
        if (end < start)
        {
            throw new ArgumentOutOfRangeException(nameof(end), end, $"window end precedes its start {start:O}");
        }
        Start = start;
        End = end;
    }

    /// <summary>First instant inside.</summary>
    public DateTimeOffset Start { get; }

    /// <summary>First instant after.</summary>
    public DateTimeOffset End { get; }

    /// <summary>True when <paramref name="time"/> is in [Start, End).</summary>
    public bool Contains(DateTimeOffset time) => time >= Start && time < End;

    /// <summary>Everything from the beginning of time up to, not including, <paramref name="end"/>.</summary>
    public static BillingWindow Until(DateTimeOffset end) => new(DateTimeOffset.MinValue, end);
}
