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
    /// <summary>No change seen yet.</summary>
    public static AutoscalerState Initial { get; } = new((DateTimeOffset?)null);
}
