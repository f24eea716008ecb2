using Kiln.Core.Autoscaling;
using static Kiln.Core.Tests.Autoscaling.AutoscalerSim;

namespace Kiln.Core.Tests.Autoscaling;

public class ZeroAndWakeTests
{
    private static AutoscalerSim Quiet(int min = 0, int current = 1)
    {
        var sim = new AutoscalerSim { Min = min, Current = current, RequestsArrive = false };
        sim.LastRequestTime = sim.CreateTime;
        return sim;
    }

    [Fact]
    public void Scales_to_zero_after_the_window_without_requests()
    {
        var sim = Quiet();
        var held = sim.Run(TimeSpan.FromHours(1) - Tick, Idle);
        Assert.Empty(sim.Changes);
        Assert.Equal("hold at 1: default load 0 < target 0.8; idle until the scale-to-zero window", held.Reason);

        var d = sim.Next(Idle);
        Assert.Equal(ScaleAction.ScaleToZero, d.Action);
        Assert.Equal("scale to zero 1 -> 0: no request for 1h0m0s", d.Reason);
        Assert.Equal(0, sim.Current);
        Assert.Equal("hold at 0: scaled to zero; the next request wakes it", sim.Next(Idle).Reason);
    }

    [Fact]
    public void Several_idle_replicas_go_straight_to_zero()
    {
        var sim = Quiet(current: 6);
        sim.Policy = new() { ScaleToZeroWindow = TimeSpan.FromMinutes(5) };
        sim.Run(TimeSpan.FromMinutes(5), Idle);
        var d = Assert.Single(sim.Changes);
        Assert.Equal((ScaleAction.ScaleToZero, 6, 0), (d.Action, d.From, d.To));
    }

    [Fact]
    public void A_recent_request_restarts_the_idle_clock()
    {
        var sim = Quiet();
        sim.Run(TimeSpan.FromMinutes(50), Idle);
        sim.LastRequestTime = sim.Clock.UtcNow;
        sim.Clock.Advance(Tick);
        sim.Run(TimeSpan.FromMinutes(59), Idle);
        Assert.Empty(sim.Changes);
        sim.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(ScaleAction.ScaleToZero, sim.Step(Idle).Action);
    }

    [Fact]
    public void Never_requested_deployment_idles_from_its_creation()
    {
        var sim = new AutoscalerSim { Current = 1, RequestsArrive = false };
        sim.Run(TimeSpan.FromHours(1), Idle);
        var d = Assert.Single(sim.Changes);
        Assert.Equal("scale to zero 1 -> 0: no request since creation 1h0m0s ago", d.Reason);
    }

    [Fact]
    public void Never_to_zero_when_min_is_positive()
    {
        var sim = Quiet(min: 1);
        sim.Run(TimeSpan.FromHours(5), Idle);
        Assert.Empty(sim.Changes);
        Assert.Equal(1, sim.Current);

        var two = Quiet(min: 2, current: 2);
        var d = two.Run(TimeSpan.FromHours(5), Idle);
        Assert.Empty(two.Changes);
        Assert.Equal("hold at 2: default load 0 < target 0.8 but minReplicaCount is 2", d.Reason);
    }

    [Fact]
    public void Not_to_zero_while_requests_are_held_or_in_flight()
    {
        var held = Quiet();
        held.Held = 2;
        held.Run(TimeSpan.FromHours(2), Idle);
        Assert.Empty(held.Changes);

        // One long stream, no new request for hours.
        var streaming = Quiet();
        streaming.Run(TimeSpan.FromHours(2), ready => new LoadSample { Time = default, ReadyReplicas = ready, BatchOccupancy = 0.1, ConcurrentRequests = 1 });
        Assert.Empty(streaming.Changes);
    }

    [Theory]
    [InlineData(3, "wake 0 -> 1: 3 requests waiting")]
    [InlineData(1, "wake 0 -> 1: 1 request waiting")]
    public void Held_requests_wake_at_once(int held, string reason)
    {
        var sim = new AutoscalerSim { Current = 0, Held = held };
        // A change a second ago and no history at all: waking needs neither window nor load.
        sim.State = new AutoscalerState(sim.Clock.UtcNow - TimeSpan.FromSeconds(1));
        var d = sim.DecideNow();
        Assert.Equal(ScaleAction.Wake, d.Action);
        Assert.Equal(1, d.To);
        Assert.Equal(reason, d.Reason);
        Assert.Equal(sim.Clock.UtcNow, d.State.LastChangeTime);
    }

    [Fact]
    public void At_zero_without_held_requests_stays_at_zero_whatever_the_history()
    {
        var sim = new AutoscalerSim { Current = 0 };
        sim.Run(TimeSpan.FromMinutes(5), _ => new LoadSample { Time = default, ConcurrentRequests = 50 });
        Assert.Empty(sim.Changes);
    }

    [Fact]
    public void After_waking_the_next_step_up_waits_a_full_window()
    {
        var sim = new AutoscalerSim { Current = 0, Held = 8, Max = 8 };
        sim.Policy = new() { LoadTargets = new Dictionary<string, double> { ["concurrent_requests"] = 1 } };
        Assert.Equal(ScaleAction.Wake, sim.DecideNow().Action);
        sim.Held = 0;
        sim.Run(TimeSpan.FromSeconds(25), _ => new LoadSample { Time = default, ReadyReplicas = 1, ConcurrentRequests = 8 });
        Assert.Single(sim.Changes);
        var up = sim.Next(_ => new LoadSample { Time = default, ReadyReplicas = 1, ConcurrentRequests = 8 });
        Assert.Equal((ScaleAction.ScaleUp, 1, 5), (up.Action, up.From, up.To));
    }
}
