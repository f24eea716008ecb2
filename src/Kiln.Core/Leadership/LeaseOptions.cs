namespace Kiln.Core.Leadership;

/// <summary>
/// The timing of a leader lease. The holder renews every <see cref="RenewInterval"/> and stops
/// leading <see cref="StepDownMargin"/> before the lease could lapse in the store, counted from the
/// moment it sent its last successful renewal (never later than the store's own clock started the
/// TTL), so it has stopped before anyone else can take over. Others try every
/// <see cref="RenewInterval"/>, so a dead leader is replaced within <see cref="Ttl"/> +
/// <see cref="RenewInterval"/>.
/// </summary>
public sealed record LeaseOptions
{
    /// <summary>The defaults: a 6 s lease renewed every 1.5 s, given up 1.5 s before it could lapse.</summary>
    public static LeaseOptions Default { get; } = new();

    /// <summary>How long a renewal holds the lease in the store.</summary>
    public TimeSpan Ttl { get; init; } = TimeSpan.FromSeconds(6);

    /// <summary>How often the holder renews and the others try to acquire.</summary>
    public TimeSpan RenewInterval { get; init; } = TimeSpan.FromMilliseconds(1500);

    /// <summary>How long before the lease could lapse the holder stops leading when renewals fail.</summary>
    public TimeSpan StepDownMargin { get; init; } = TimeSpan.FromMilliseconds(1500);

    /// <summary>How long a successful renewal lets the holder lead, from when it was sent.</summary>
    public TimeSpan LeadFor => Ttl - StepDownMargin;

    /// <summary>The first problem with these timings, or null when they work.</summary>
    public string? Validate() =>
        Ttl <= TimeSpan.Zero ? "the lease TTL must be above zero"
        : StepDownMargin <= TimeSpan.Zero ? "the step-down margin must be above zero"
        : RenewInterval <= TimeSpan.Zero ? "the renew interval must be above zero"
        : RenewInterval >= LeadFor ? $"the renew interval ({RenewInterval.TotalSeconds:0.###}s) must be shorter than the TTL less the step-down margin ({LeadFor.TotalSeconds:0.###}s), or one late renewal would end every term"
        : null;
}
