using Kiln.Core.Autoscaling;
using Kiln.Core.Deployments;

namespace Kiln.Core.Tests.Autoscaling;

public class LoadHistoryTests
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static List<LoadSample> Every(TimeSpan step, int count, Func<int, double>? occupancy = null) =>
        [.. Enumerable.Range(0, count).Select(i => new LoadSample { Time = T0 + step * i, ReadyReplicas = 1, BatchOccupancy = occupancy?.Invoke(i) ?? 0 })];

    [Fact]
    public void Horizon_is_the_longer_window()
    {
        Assert.Equal(TimeSpan.FromMinutes(10), LoadHistory.Horizon(new AutoscalingPolicy()));
        Assert.Equal(TimeSpan.FromMinutes(2), LoadHistory.Horizon(new AutoscalingPolicy { ScaleUpWindow = TimeSpan.FromMinutes(2), ScaleDownWindow = TimeSpan.FromMinutes(1) }));
    }

    // The history the autoscaler keeps when it appends these samples one by one, each at its own time.
    private static List<LoadSample> Appended(IEnumerable<LoadSample> samples, AutoscalingPolicy policy)
    {
        var history = new List<LoadSample>();
        foreach (var s in samples)
        {
            LoadHistory.Append(history, s, s.Time, policy);
        }
        return history;
    }

    [Fact]
    public void Append_keeps_the_sample_at_the_horizon_start()
    {
        var policy = new AutoscalingPolicy { ScaleUpWindow = TimeSpan.FromSeconds(10), ScaleDownWindow = TimeSpan.FromSeconds(20) };
        var history = Appended(Every(TimeSpan.FromSeconds(3), 20), policy); // 0, 3, ..., 57
        Assert.Equal(T0 + TimeSpan.FromSeconds(36), history[0].Time); // newest at or before 37
        Assert.Equal(8, history.Count);
        // Nothing is dropped before the horizon has passed the first sample.
        Assert.Equal(2, Appended(Every(TimeSpan.FromSeconds(3), 2), policy).Count);
        // A sample exactly at the start is kept, the ones before it go.
        var exact = Appended(Every(TimeSpan.FromSeconds(5), 5), policy); // 0..20, start at 0
        Assert.Equal(T0, exact[0].Time);
        LoadHistory.Append(exact, new LoadSample { Time = T0 + TimeSpan.FromSeconds(25), ReadyReplicas = 1 }, T0 + TimeSpan.FromSeconds(25), policy);
        Assert.Equal(T0 + TimeSpan.FromSeconds(5), exact[0].Time);
    }

    [Fact]
    public void Appended_history_decides_like_the_full_one()
    {
        var policy = new AutoscalingPolicy();
        var full = Every(TimeSpan.FromSeconds(5), 500, i => 0.5 + 0.45 * Math.Sin(i / 9.0));
        var kept = new List<LoadSample>();
        for (var i = 0; i < full.Count; i++)
        {
            var now = full[i].Time;
            LoadHistory.Append(kept, full[i], now, policy);
            Assert.True(kept.Count <= 122, $"{kept.Count} samples kept at {i}");
            foreach (var window in new[] { policy.ScaleUpWindow, policy.ScaleDownWindow })
            {
                Assert.Equal(LoadWindow.Over(full[..(i + 1)], now, window, policy.LoadTargets), LoadWindow.Over(kept, now, window, policy.LoadTargets));
            }
        }
    }

    [Fact]
    public void Window_needs_history_reaching_its_start()
    {
        var history = Every(TimeSpan.FromSeconds(5), 7, i => i == 3 ? 1 : 0.5); // 0..30s
        var targets = DeploymentDefaults.LoadTargets;
        Assert.Null(LoadWindow.Over(history, T0 + TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(31), targets));
        var w = LoadWindow.Over(history, T0 + TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30), targets)!.Value;
        Assert.Equal((1, 2), (w.Lowest.Replicas, w.Highest.Replicas));
        // Between samples, the one before the start stands for the load at the start.
        var later = LoadWindow.Over(history, T0 + TimeSpan.FromSeconds(32), TimeSpan.FromSeconds(14), targets)!.Value;
        Assert.Equal((1, 2), (later.Lowest.Replicas, later.Highest.Replicas));
        var past = LoadWindow.Over(history, T0 + TimeSpan.FromSeconds(32), TimeSpan.FromSeconds(12), targets)!.Value;
        Assert.Equal((1, 1), (past.Lowest.Replicas, past.Highest.Replicas));
    }
}
