namespace Kiln.Core.Autoscaling;

/// <summary>The autoscaler's answer for one deployment.</summary>
/// <param name="Action">What kind of change, or <see cref="ScaleAction.Hold"/>.</param>
/// <param name="From">The desired count the decision started from.</param>
/// <param name="To">The desired count to set.</param>
/// <param name="Reason">One line for the deployment's events, e.g. "scale up 1 -&gt; 2: default load 0.93 &gt; target 0.8 for 30s".</param>
/// <param name="State">The state to pass to the next decision.</param>
public sealed record AutoscaleDecision(ScaleAction Action, int From, int To, string Reason, AutoscalerState State)
{
    /// <summary>True when the desired count changes (worth an event).</summary>
    public bool Changed => To != From;
}
