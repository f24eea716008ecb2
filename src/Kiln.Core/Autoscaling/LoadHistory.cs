using Kiln.Core.Deployments;
using Kiln.Core.Time;

namespace Kiln.Core.Autoscaling;

/// <summary>Keeps a deployment's load history as short as the autoscaler allows.</summary>
public static class LoadHistory
{
    /// <summary>How far back the autoscaler ever looks: the longer of the scale-up and scale-down windows.</summary>
    public static TimeSpan Horizon(AutoscalingPolicy policy) =>
        policy.ScaleUpWindow > policy.ScaleDownWindow ? policy.ScaleUpWindow : policy.ScaleDownWindow;

    /// <summary>
    /// The samples still needed at <paramref name="now"/>: those inside the horizon plus the newest
    /// one at or before its start (it is the load at the start). Input and output are oldest first.
    /// </summary>
    public static IReadOnlyList<LoadSample> Prune(IReadOnlyList<LoadSample> history, DateTimeOffset now, AutoscalingPolicy policy)
    {
        var start = SaturatingTime.Minus(now, Horizon(policy));
        var first = 0;
        for (var i = history.Count - 1; i >= 0; i--)
        {
            if (history[i].Time <= start)
            {
                first = i;
                break;
            }
        }
        return first == 0 ? history : [.. history.Skip(first)];
    }
}
