using Kiln.Core.Autoscaling;
using Kiln.Core.Errors;
using Kiln.Core.History;

namespace Kiln.Core.Tests.History;

public class HistoryTests
{
    private static readonly double[] Bounds = [0.1, 0.5, 1, 5];
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Quantiles_interpolate_inside_the_bucket_holding_the_rank()
    {
        // 10 requests: 4 under 100 ms, 6 between 0.5 s and 1 s.
        long[] counts = [4, 0, 6, 0];
        Assert.Equal(0.5 + 0.5 * (5 - 4) / 6.0, LatencyQuantiles.Estimate(Bounds, counts, 0, 0.5)!.Value, 9);
        Assert.Equal(0.5 + 0.5 * (9.9 - 4) / 6.0, LatencyQuantiles.Estimate(Bounds, counts, 0, 0.99)!.Value, 9);
        Assert.Equal(0.1 * 2 / 4.0, LatencyQuantiles.Estimate(Bounds, counts, 0, 0.2)!.Value, 9);
    }

    [Fact]
    public void No_requests_have_no_quantile_and_the_overflow_answers_the_last_bound()
    {
        Assert.Null(LatencyQuantiles.Estimate(Bounds, [0, 0, 0, 0], 0, 0.5));
        Assert.Equal(5, LatencyQuantiles.Estimate(Bounds, [1, 0, 0, 0], 9, 0.99));
        Assert.Throws<ArgumentOutOfRangeException>(() => LatencyQuantiles.Estimate(Bounds, [1, 0, 0, 0], 0, 1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => LatencyQuantiles.Estimate(Bounds, [1, 0], 0, 0.5));
    }

    [Fact]
    public void Differences_of_cumulative_counts_restart_from_zero_after_a_reset()
    {
        Assert.Equal([1, 0, 2], LatencyQuantiles.Difference([3, 1, 1], [4, 1, 3]));
        Assert.Equal([1, 1, 0], LatencyQuantiles.Difference([3, 1, 1], [1, 1, 0]));
    }

    [Fact]
    public void A_sample_measures_load_per_ready_replica_against_the_target_that_asks_most()
    {
        var load = new LoadSample { Time = T0, ReadyReplicas = 2, BatchOccupancy = 0.4, ConcurrentRequests = 6, RequestsPerSecond = 3, TokensGeneratedPerSecond = 120 };
        var targets = new Dictionary<string, double> { ["default"] = 0.8, ["concurrent_requests"] = 2 };
        var p = HistorySample.From(load, targets, desiredReplicas: 3, heldRequests: 1, Bounds, [0, 2, 0, 0], 0);
        Assert.Equal("concurrent_requests", p.LoadTarget);
        Assert.Equal(1.5, p.Load, 9); // 6 requests over 2 replicas, target 2 each
        Assert.Equal((2, 3, 1, 3.0, 120.0), (p.Replicas, p.DesiredReplicas, p.HeldRequests, p.RequestsPerSecond, p.TokensPerSecond));
        Assert.Equal(0.3, p.P50LatencySeconds!.Value, 9);
        Assert.Null(HistorySample.From(load, targets, 3, 0, Bounds, [0, 0, 0, 0], 0).P99LatencySeconds);
    }

    [Fact]
    public void Idle_deployments_at_zero_replicas_show_no_load()
    {
        var p = HistorySample.From(new LoadSample { Time = T0 }, new Dictionary<string, double>(), 0, 0, Bounds, [0, 0, 0, 0], 0);
        Assert.Equal((0, 0.0, "default"), (p.Replicas, p.Load, p.LoadTarget));
    }

    [Theory]
    [InlineData("", 3600)]
    [InlineData("1h", 3600)]
    [InlineData("24h", 86400)]
    [InlineData("1d", 86400)]
    [InlineData("900s", 900)]
    public void Windows_are_durations_up_to_a_day(string text, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), HistoryWindow.Parse(text));

    [Theory]
    [InlineData("soon")]
    [InlineData("0s")]
    [InlineData("-1h")]
    [InlineData("25h")]
    public void Other_windows_are_refused_naming_the_value(string text)
    {
        var e = Assert.Throws<KilnError>(() => HistoryWindow.Parse(text));
        Assert.Equal(StatusCode.InvalidArgument, e.Code);
        Assert.Contains($"\"{text}\"", e.Message);
    }

    [Fact]
    public void Few_points_come_back_unchanged()
    {
        var points = Enumerable.Range(0, 10).Select(i => Point(i, replicas: 1, rps: i)).ToList();
        Assert.Same(points, HistoryWindow.Downsample(points, T0, T0.AddHours(1), 20));
    }

    [Fact]
    public void Many_points_merge_into_buckets_keeping_peaks_and_averaging_rates()
    {
        // An hour of samples every 5 s into 12 buckets of 5 minutes (60 samples each).
        var points = Enumerable.Range(0, 720).Select(i => Point(i * 5, replicas: i == 100 ? 4 : 1, rps: i < 60 ? 2 : 0)).ToList();
        var merged = HistoryWindow.Downsample(points, T0, T0.AddHours(1), 12);
        Assert.Equal(12, merged.Count);
        Assert.Equal(2, merged[0].RequestsPerSecond, 9);
        Assert.Equal(0, merged[1].RequestsPerSecond, 9);
        Assert.Equal(4, merged[1].Replicas); // sample 100 (500 s) falls in the second bucket
        Assert.Equal(1, merged[2].Replicas);
        Assert.Equal(points[59].Time, merged[0].Time);
        Assert.True(merged.Zip(merged.Skip(1)).All(x => x.First.Time < x.Second.Time));
    }

    private static HistoryPoint Point(int seconds, int replicas, double rps) =>
        new() { Time = T0.AddSeconds(seconds), Replicas = replicas, DesiredReplicas = replicas, RequestsPerSecond = rps, LoadTarget = "default" };
}
