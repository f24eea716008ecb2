using System.Globalization;

namespace Kiln.Core.Billing;

/// <summary>The answer of a spend-limit check.</summary>
/// <param name="OverLimit">True when the account's deployments must go.</param>
/// <param name="Reason">Why, for the deployments' status; null when within the limit.</param>
public sealed record SpendCheck(bool OverLimit, string? Reason);

/// <summary>An account's optional spend limit, as the reaper enforces it.</summary>
public static class SpendLimit
{
    /// <summary>
    /// Over the limit when spend so far plus the projected spend reaches it. Projecting (e.g. the
    /// running replicas over the reaper's next interval, see <see cref="Metering.ProjectedCost"/>)
    /// stops deployments before the limit is crossed rather than one interval after.
    /// </summary>
    /// <param name="spent">USD spent so far in the limit's period.</param>
    /// <param name="projected">USD expected before the next check.</param>
    /// <param name="limit">The limit in USD, or null for none.</param>
    public static SpendCheck Check(decimal spent, decimal projected, decimal? limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(spent);
        ArgumentOutOfRangeException.ThrowIfNegative(projected);
        if (limit is not { } l)
        {
            return new(false, null);
        }
        ArgumentOutOfRangeException.ThrowIfNegative(l, nameof(limit));
        return spent + projected >= l
            ? new(true, $"spend limit reached: {Usd(spent)} spent + {Usd(projected)} projected >= limit {Usd(l)}")
            : new(false, null);
    }

    /// <summary>"$12.50", "$0.0008": cents, plus up to two more digits when they are not zero.</summary>
    public static string Usd(decimal amount) => "$" + amount.ToString("0.00##", CultureInfo.InvariantCulture);
}
