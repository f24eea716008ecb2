using Kiln.Core.Autoscaling;
using static Kiln.Core.Tests.Autoscaling.AutoscalerSim;

namespace Kiln.Core.Tests.Autoscaling;

public class BoundsTests
{
    private static Func<int, LoadSample> Concurrent(double n) =>
        ready => new LoadSample { Time = default, ReadyReplicas = ready, ConcurrentRequests = n };

    private static AutoscalerSim ConcurrencyTarget(int current, int max, double perReplica = 1) => new()
    {
        Current = current,
        Max = max,
        Policy = new() { LoadTargets = new Dictionary<string, double> { ["concurrent_requests"] = perReplica } },
    };

    [Fact]
    public void Steps_up_are_bounded_by_doubling_or_plus_four()
    {
        var sim = ConcurrencyTarget(current: 1, max: 50);
        sim.Run(TimeSpan.FromMinutes(5), Concurrent(100));
        Assert.Equal([(1, 5), (5, 10), (10, 20), (20, 40), (40, 50)], sim.Changes.Select(c => (c.From, c.To)));
        Assert.All(sim.Changes.Zip(sim.Changes.Skip(1)), p => Assert.Equal(TimeSpan.FromSeconds(30), p.Second.State.LastChangeTime - p.First.State.LastChangeTime));
        Assert.Equal("scale up 1 -> 5: concurrent_requests load 100 > target 1 for 30s", sim.Changes[0].Reason);
    }

    [Fact]
    public void Steps_down_are_bounded_by_halving()
    {
        var sim = new AutoscalerSim { Current = 8, Min = 1, Max = 8 };
        sim.Run(TimeSpan.FromMinutes(40), Idle);
        Assert.Equal([(8, 4), (4, 2), (2, 1)], sim.Changes.Select(c => (c.From, c.To)));
        Assert.Equal(
            [TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(20), TimeSpan.FromMinutes(30)],
            sim.Changes.Select(c => c.State.LastChangeTime!.Value - sim.CreateTime));
    }

    [Fact]
    public void Scale_up_stops_at_max()
    {
        var sim = ConcurrencyTarget(current: 1, max: 3);
        var d = sim.Run(TimeSpan.FromMinutes(5), Concurrent(40));
        Assert.Equal([(1, 3)], sim.Changes.Select(c => (c.From, c.To)));
        Assert.Equal("hold at 3: concurrent_requests load 13.33 > target 1 but maxReplicaCount is 3", d.Reason);
    }

    [Fact]
    public void Scale_down_stops_at_min()
    {
        var sim = new AutoscalerSim { Current = 6, Min = 3 };
        sim.Run(TimeSpan.FromHours(2), Idle);
        Assert.Equal([(6, 3)], sim.Changes.Select(c => (c.From, c.To)));
    }

    [Fact]
    public void Lowered_max_clamps_at_once()
    {
        var sim = ConcurrencyTarget(current: 1, max: 10);
        sim.Run(TimeSpan.FromMinutes(2), Concurrent(100));
        Assert.Equal(10, sim.Current);

        sim.Max = 4;
        var d = sim.Next(Concurrent(100));
        Assert.Equal(ScaleAction.Clamp, d.Action);
        Assert.Equal("clamp 10 -> 4: maxReplicaCount is 4", d.Reason);
        Assert.Equal(4, sim.Current);

        sim.Run(TimeSpan.FromMinutes(5), Concurrent(100));
        Assert.Equal(4, sim.Current);
    }

    [Fact]
    public void Raised_min_clamps_at_once_even_from_zero()
    {
        var sim = new AutoscalerSim { Current = 0, Min = 2, Max = 4 };
        var d = sim.DecideNow();
        Assert.Equal((ScaleAction.Clamp, 2), (d.Action, d.To));
        Assert.Equal("clamp 0 -> 2: minReplicaCount is 2", d.Reason);

        var busy = new AutoscalerSim { Current = 1, Min = 3, Max = 4, State = new AutoscalerState(DateTimeOffset.MaxValue) };
        Assert.Equal(3, busy.Step(Idle).To);
    }

    [Fact]
    public void Raised_max_lets_load_scale_further_after_the_window()
    {
        var sim = ConcurrencyTarget(current: 1, max: 2);
        sim.Run(TimeSpan.FromMinutes(2), Concurrent(6));
        Assert.Equal(2, sim.Current);
        sim.Max = 6;
        sim.Clock.Advance(Tick);
        sim.Run(TimeSpan.FromMinutes(2), Concurrent(6));
        Assert.Equal([(1, 2), (2, 6)], sim.Changes.Select(c => (c.From, c.To)));
    }

    [Fact]
    public void Wake_brings_exactly_one_replica_however_many_wait()
    {
        var one = new AutoscalerSim { Current = 0, Held = 50, Max = 1 };
        Assert.Equal(1, one.DecideNow().To);
    }

    [Fact]
    public void Random_traces_stay_within_bounds_and_step_limits()
    {
        var random = new Random(7);
        for (var trial = 0; trial < 40; trial++)
        {
            var sim = new AutoscalerSim
            {
                Min = random.Next(0, 3),
                Current = random.Next(0, 6),
                RequestsArrive = random.Next(2) == 0,
                Policy = new()
                {
                    ScaleUpWindow = TimeSpan.FromSeconds(random.Next(0, 60)),
                    ScaleDownWindow = TimeSpan.FromSeconds(random.Next(0, 600)),
                    ScaleToZeroWindow = TimeSpan.FromSeconds(random.Next(0, 1200)),
                    LoadTargets = new Dictionary<string, double> { ["default"] = 0.8, ["requests_per_second"] = 2 },
                },
            };
            sim.Max = Math.Max(1, sim.Min) + random.Next(0, 12);
            sim.LastRequestTime = sim.CreateTime;
            for (var step = 0; step < 2000; step++)
            {
                if (step % 400 == 399)
                {
                    // Policy changes mid-trace.
                    sim.Min = random.Next(0, 3);
                    sim.Max = Math.Max(1, sim.Min) + random.Next(0, 12);
                }
                sim.Held = random.Next(10) == 0 ? random.Next(1, 5) : 0;
                var level = random.NextDouble() * 30;
                var d = sim.Next(ready => new LoadSample
                {
                    Time = default,
                    ReadyReplicas = ready,
                    BatchOccupancy = ready == 0 ? 0 : Math.Min(1, level / 8 / ready),
                    RequestsPerSecond = level,
                });
                if (d.Action is ScaleAction.Clamp)
                {
                    continue;
                }
                Assert.InRange(d.To, sim.Min, sim.Max);
                if (d.To == 0)
                {
                    Assert.Equal(0, sim.Min);
                }
                switch (d.Action)
                {
                    case ScaleAction.ScaleUp:
                        Assert.InRange(d.To, d.From + 1, Math.Max(2 * d.From, d.From + 4));
                        break;
                    case ScaleAction.ScaleDown:
                        Assert.InRange(d.To, Math.Max(1, (d.From + 1) / 2), d.From - 1);
                        break;
                    case ScaleAction.Wake:
                        Assert.Equal((0, Math.Max(1, sim.Min)), (d.From, d.To));
                        break;
                }
            }
        }
    }
}
