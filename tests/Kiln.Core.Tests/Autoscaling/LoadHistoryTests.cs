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

    [Fact]
    public void Prune_keeps_the_sample_at_the_horizon_start()
    {
        var policy = new AutoscalingPolicy { ScaleUpWindow = TimeSpan.FromSeconds(10), ScaleDownWindow = TimeSpan.FromSeconds(20) };
        var history = Every(TimeSpan.FromSeconds(3), 20); // 0, 3, ..., 57
        var kept = LoadHistory.Prune(history, T0 + TimeSpan.FromSeconds(57), policy);
        Assert.Equal(T0 + TimeSpan.FromSeconds(36), kept[0].Time); // newest at or before 37
        Assert.Equal(8, kept.Count);
        Assert.Same(history, LoadHistory.Prune(history, T0 + TimeSpan.FromSeconds(5), policy));
    }

    [Fact]
    public void Pruned_history_decides_like_the_full_one()
    {
        var policy = new AutoscalingPolicy();
        var history = Every(TimeSpan.FromSeconds(5), 500, i => 0.5 + 0.45 * Math.Sin(i / 9.0));
        for (var i = 0; i < history.Count; i += 7)
        {
            var now = history[i].Time;
            var full = LoadWindow.Over(history, now, policy.ScaleDownWindow, policy.LoadTargets);
            var pruned = LoadWindow.Over(LoadHistory.Prune(history, now, policy), now, policy.ScaleDownWindow, policy.LoadTargets);
            Assert.Equal(full, pruned);
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
