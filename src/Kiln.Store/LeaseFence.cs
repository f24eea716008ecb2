namespace Kiln.Store;

/// <summary>
/// The leader term a flow of store writes belongs to: a lease and the epoch it had when the term
/// began. While a flow runs under a fence, every write it makes first checks, in the write's own
/// transaction, that the lease is still at that epoch, and is refused with FAILED_PRECONDITION
/// (changing nothing) once it has moved on: a deposed leader's late write never lands, however long
/// it was frozen. Writes outside a fence (the API, the gateway's usage) are not checked.
/// </summary>
/// <remarks>
/// The fence travels with the asynchronous flow (an <see cref="AsyncLocal{T}"/>) rather than as an
/// argument, so that every write a leader's controllers make, through whichever component, carries
/// it without threading the epoch through each store call.
/// </remarks>
/// <param name="Lease">The lease's name.</param>
/// <param name="Epoch">The epoch the term holds it at.</param>
public sealed record LeaseFence(string Lease, long Epoch)
{
    private static readonly AsyncLocal<LeaseFence?> Ambient = new();

    /// <summary>The fence of the current flow, or null.</summary>
    public static LeaseFence? Current => Ambient.Value;

    /// <summary>
    /// Puts the current flow, and every task it starts from then on, under <paramref name="fence"/>
    /// (null: none). Set inside an async method, it stays with that method and what it starts: the
    /// caller's flow is unchanged once the method returns.
    /// </summary>
    public static void Enter(LeaseFence? fence) => Ambient.Value = fence;

    /// <summary>The refusal of a write made under this fence while the lease is at <paramref name="storedEpoch"/> (null: never taken).</summary>
    public Kiln.Core.Errors.KilnError Refusal(long? storedEpoch) => Kiln.Core.Errors.KilnError.FailedPrecondition(storedEpoch is { } e
        ? $"fenced: the lease {Lease} is at epoch {e}, and this write was made under epoch {Epoch} (another term leads now)"
        : $"fenced: the lease {Lease} is not held, and this write was made under epoch {Epoch}");
}
