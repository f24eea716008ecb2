namespace Kiln.Core.Autoscaling;

/// <summary>
/// The only memory the autoscaler keeps between decisions; the caller stores the one returned with
/// each <see cref="AutoscaleDecision"/> and passes it to the next call.
/// </summary>
/// <remarks>
/// Losing it (a restart) is safe: the next change may then come one window sooner, but it still
/// needs a full window of load history.
/// </remarks>
/// <param name="LastChangeTime">When the autoscaler last changed the desired count, if ever.</param>
public sealed record AutoscalerState(DateTimeOffset? LastChangeTime)
{
    /// <summary>
    /// When a requested count (<c>:scale</c>) was last applied: like a request, it restarts the
    /// scale-to-zero clock, so an idle deployment scaled by hand is not put to sleep at once.
    /// </summary>
    public DateTimeOffset? RequestedTime { get; init; }

    /// <summary>No change seen yet.</summary>
    public static AutoscalerState Initial { get; } = new((DateTimeOffset?)null);
}
