namespace Kiln.Core.Leadership;

/// <summary>What an instance must do after a lease attempt or a look at the clock.</summary>
public enum LeaseTransition
{
    /// <summary>Keep doing what it does (leading or following).</summary>
    None,

    /// <summary>It leads from now on: start the controllers.</summary>
    Acquired,

    /// <summary>It no longer leads: stop the controllers at once.</summary>
    Lost,
}

/// <summary>A new <see cref="LeaseState"/> and what changed.</summary>
public readonly record struct LeaseStep(LeaseState State, LeaseTransition Transition);

/// <summary>
/// One instance's view of the leader lease: whether it leads, in which epoch, and until when it may
/// go on leading without another successful renewal. Pure: the caller talks to the store and
/// passes the times in.
/// </summary>
/// <param name="Epoch">The epoch this instance leads in, or null while it follows.</param>
/// <param name="LeadsUntil">When it must stop leading unless a renewal succeeds first (null while it follows).</param>
public sealed record LeaseState(long? Epoch, DateTimeOffset? LeadsUntil)
{
    /// <summary>Not leading (the start).</summary>
    public static LeaseState Following { get; } = new(null, null);

    /// <summary>Whether this instance may act as leader at <paramref name="now"/>.</summary>
    public bool IsLeading(DateTimeOffset now) => LeadsUntil is { } until && now < until;

    /// <summary>
    /// The store answered an attempt sent at <paramref name="sentAt"/>: whether this instance holds
    /// the lease, and its epoch. A hold counts from when the attempt was sent (the store started the
    /// TTL later, so the holder always stops first). A different epoch than the one it leads in
    /// means it lost the lease in between: that term ends, and the next attempt starts a new one.
    /// </summary>
    public LeaseStep Answered(LeaseOptions options, DateTimeOffset sentAt, DateTimeOffset now, bool held, long epoch)
    {
        var until = sentAt + options.LeadFor;
        if (!held || now >= until || (Epoch is { } led && led != epoch))
        {
            return new LeaseStep(Following, Epoch is null ? LeaseTransition.None : LeaseTransition.Lost);
        }
        var next = new LeaseState(epoch, LeadsUntil is { } old && old > until ? old : until);
        return new LeaseStep(next, Epoch is null ? LeaseTransition.Acquired : LeaseTransition.None);
    }

    /// <summary>
    /// A look at the clock, after an attempt failed (the store did not answer) or while waiting:
    /// a leader whose time is up stops leading.
    /// </summary>
    public LeaseStep Checked(DateTimeOffset now) =>
        Epoch is not null && !IsLeading(now) ? new LeaseStep(Following, LeaseTransition.Lost) : new LeaseStep(this, LeaseTransition.None);

}
