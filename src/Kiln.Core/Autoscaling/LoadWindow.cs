using Kiln.Core.Time;

namespace Kiln.Core.Autoscaling;

/// <summary>The lowest and highest need seen over a window of load history.</summary>
/// <param name="Lowest">The smallest per-sample need: what the load asked for all window long.</param>
/// <param name="Highest">The largest per-sample need: more was never asked for in the window.</param>
public readonly record struct WindowNeeds(LoadNeed Lowest, LoadNeed Highest);

/// <summary>Reads a window of load history.</summary>
public static class LoadWindow
{
    /// <summary>
    /// The extremes of the per-sample needs over [now − window, now], or null when the history does
    /// not reach back to the window's start. A sample counts from its own time until the next one,
    /// so the newest sample at or before the start is included: it is the load at the start.
    /// </summary>
    /// <param name="history">Samples, oldest first.</param>
    /// <param name="now">The window's end; later samples are ignored.</param>
    /// <param name="window">The window's length.</param>
    /// <param name="targets">The policy's load targets.</param>
    /// <param name="headroom">Passed to <see cref="LoadNeeds.Largest"/>.</param>
    public static WindowNeeds? Over(IReadOnlyList<LoadSample> history, DateTimeOffset now, TimeSpan window, IReadOnlyDictionary<string, double> targets, double headroom = 1)
    {
        var start = SaturatingTime.Minus(now, window);
        LoadNeed? lowest = null, highest = null;
        for (var i = history.Count - 1; i >= 0; i--)
        {
            var sample = history[i];
            if (sample.Time > now)
            {
                continue;
            }
            var need = LoadNeeds.Largest(sample, targets, headroom);
            if (lowest is null || need.Replicas < lowest.Value.Replicas)
            {
                lowest = need;
            }
            if (highest is null || need.Replicas > highest.Value.Replicas)
            {
                highest = need;
            }
            if (sample.Time <= start)
            {
                return new WindowNeeds(lowest.Value, highest!.Value);
            }
        }
        return null;
    }

    /// <summary>The newest sample at or before <paramref name="now"/>, if any.</summary>
    public static LoadSample? Latest(IReadOnlyList<LoadSample> history, DateTimeOffset now)
    {
        for (var i = history.Count - 1; i >= 0; i--)
        {
            if (history[i].Time <= now)
            {
                return history[i];
            }
        }
        return null;
    }
}
