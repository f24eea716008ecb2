using Kiln.Core.Billing;
using Kiln.Core.Deployments;

namespace Kiln.Core.Tests.Billing;

public class MeteringTests
{
    private static readonly DateTimeOffset T0 = new(2025, 3, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly BillingWindow All = BillingWindow.Until(DateTimeOffset.MaxValue);

    private static DateTimeOffset At(double seconds) => T0 + TimeSpan.FromSeconds(seconds);

    private static ReplicaLifetime Replica(double ready, double? stop, int count = 1, string deployment = "accounts/a/deployments/d",
        AcceleratorType type = AcceleratorType.NvidiaA100_80GB) =>
        new(deployment, $"r{ready}", type, count, At(ready), stop is { } s ? At(s) : null);

    [Fact]
    public void Stopped_replica_counts_from_ready_to_stop()
    {
        Assert.Equal(90m, Metering.AcceleratorSeconds(Replica(10, 100), All, At(1000)));
    }

    [Fact]
    public void Running_replica_counts_until_now()
    {
        Assert.Equal(50.5m, Metering.AcceleratorSeconds(Replica(10, null), All, At(60.5)));
    }

    [Fact]
    public void World_size_multiplies()
    {
        Assert.Equal(360m, Metering.AcceleratorSeconds(Replica(10, 100, count: 4), All, At(1000)));
        Assert.Equal(0m, Metering.AcceleratorSeconds(Replica(10, 100, count: 0), All, At(1000)));
    }

    [Theory]
    [InlineData(0, 50, 40)] // window clips the start: 10..50
    [InlineData(50, 200, 50)] // window clips the end: 50..100
    [InlineData(20, 30, 10)] // window inside the lifetime
    [InlineData(0, 1000, 90)] // lifetime inside the window
    [InlineData(100, 200, 0)] // starts exactly at the stop
    [InlineData(0, 10, 0)] // ends exactly at ready (half-open)
    [InlineData(300, 400, 0)] // after
    [InlineData(30, 30, 0)] // empty window
    public void Window_clips_the_lifetime(double start, double end, decimal expected)
    {
        Assert.Equal(expected, Metering.AcceleratorSeconds(Replica(10, 100), new BillingWindow(At(start), At(end)), At(1000)));
    }

    [Fact]
    public void Running_replica_is_clipped_at_now_even_in_a_future_window()
    {
        Assert.Equal(20m, Metering.AcceleratorSeconds(Replica(10, null), new BillingWindow(At(0), At(10_000)), At(30)));
        Assert.Equal(0m, Metering.AcceleratorSeconds(Replica(10, null), new BillingWindow(At(40), At(50)), At(30)));
    }

    [Fact]
    public void Zero_length_and_inverted_lifetimes_cost_nothing()
    {
        Assert.Equal(0m, Metering.AcceleratorSeconds(Replica(10, 10), All, At(100)));
        Assert.Equal(0m, Metering.AcceleratorSeconds(Replica(10, 5), All, At(100)));
        Assert.Equal(0m, Metering.AcceleratorSeconds(Replica(10, null), All, At(5)));
    }

    [Fact]
    public void Sub_second_time_is_exact()
    {
        var r = Replica(0, 0.0000001);
        Assert.Equal(0.0000001m, Metering.AcceleratorSeconds(r, All, At(1)));
    }

    [Fact]
    public void Cost_is_seconds_times_hourly_price_over_3600()
    {
        Assert.Equal(2.90m, Metering.Cost(3600m, 2.90m));
        Assert.Equal(11.60m, Metering.Cost(4 * 3600m, 2.90m));
        Assert.Equal(0.725m, Metering.Cost(900m, 2.90m));
        Assert.Equal(0m, Metering.Cost(0m, 5.80m));
    }

    [Fact]
    public void Per_deployment_totals_mix_types_and_divide_once()
    {
        var prices = PriceTable.Default;
        var replicas = new[]
        {
            Replica(0, 3600, count: 2, deployment: "accounts/a/deployments/b"),
            Replica(0, 1800, deployment: "accounts/a/deployments/b", type: AcceleratorType.NvidiaH100_80GB),
            Replica(100, null, count: 8, deployment: "accounts/a/deployments/a", type: AcceleratorType.Cpu),
        };
        var costs = Metering.ByDeployment(replicas, All, At(3700), prices);
        Assert.Equal(["accounts/a/deployments/a", "accounts/a/deployments/b"], costs.Select(c => c.Deployment));
        Assert.Equal(new DeploymentCost("accounts/a/deployments/a", 28800m, 0.40m), costs[0]);
        Assert.Equal(new DeploymentCost("accounts/a/deployments/b", 9000m, 2 * 2.90m + 0.5m * 5.80m), costs[1]);
    }

    [Fact]
    public void Many_one_second_slices_add_up_to_the_whole()
    {
        var slices = Enumerable.Range(0, 3600).Select(i => Replica(i, i + 1));
        var cost = Assert.Single(Metering.ByDeployment(slices, All, At(5000), PriceTable.Default));
        Assert.Equal(3600m, cost.AcceleratorSeconds);
        Assert.Equal(2.90m, cost.Cost);
    }

    [Fact]
    public void Adjacent_windows_add_up_to_their_union()
    {
        var replicas = new[] { Replica(3, 97.25, count: 2), Replica(40, null, count: 1) };
        var now = At(120);
        var whole = Metering.ByDeployment(replicas, new BillingWindow(At(0), At(200)), now, PriceTable.Default).Single();
        var parts = Enumerable.Range(0, 20)
            .Select(i => Metering.ByDeployment(replicas, new BillingWindow(At(i * 10), At(i * 10 + 10)), now, PriceTable.Default).Single())
            .ToList();
        Assert.Equal(whole.AcceleratorSeconds, parts.Sum(p => p.AcceleratorSeconds));
        Assert.Equal(2 * 94.25m + 80m, whole.AcceleratorSeconds);
        Assert.Equal(whole.Cost, parts.Sum(p => p.Cost), 20);
    }

    [Fact]
    public void Projected_cost_covers_running_replicas_only()
    {
        var replicas = new[]
        {
            Replica(0, null, count: 2),
            Replica(0, null, type: AcceleratorType.NvidiaH100_80GB),
            Replica(0, 50, count: 8),
        };
        Assert.Equal(2 * 2.90m + 5.80m, Metering.ProjectedCost(replicas, TimeSpan.FromHours(1), PriceTable.Default));
        Assert.Equal(0m, Metering.ProjectedCost(replicas, TimeSpan.Zero, PriceTable.Default));
    }

    [Fact]
    public void Window_end_may_not_precede_its_start() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new BillingWindow(At(10), At(5)));
}
