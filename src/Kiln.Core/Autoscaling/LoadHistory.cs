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
    /// Adds <paramref name="sample"/> (the newest) to <paramref name="history"/> (oldest first) and
    /// drops what is no longer needed at <paramref name="now"/>: every sample before the newest one
    /// at or before the horizon's start (that one is the load at the start). In place: the
    /// autoscaler keeps one such list per deployment, and copying it every pass cost more than the
    /// decision it feeds.
    /// </summary>
    public static void Append(List<LoadSample> history, LoadSample sample, DateTimeOffset now, AutoscalingPolicy policy)
    {
        history.Add(sample);
        var start = SaturatingTime.Minus(now, Horizon(policy));
        for (var i = history.Count - 1; i > 0; i--)
        {
            if (history[i].Time <= start)
            {
                history.RemoveRange(0, i);
                return;
            }
        }
    }
}
