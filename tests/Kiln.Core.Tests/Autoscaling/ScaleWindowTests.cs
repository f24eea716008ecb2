using Kiln.Core.Autoscaling;
using static Kiln.Core.Tests.Autoscaling.AutoscalerSim;

namespace Kiln.Core.Tests.Autoscaling;

public class ScaleWindowTests
{
    [Fact]
    public void Scale_up_waits_for_the_whole_window()
    {
        var sim = new AutoscalerSim { Current = 1 };
        var held = sim.Run(TimeSpan.FromSeconds(25), Busy(0.95));
        Assert.Empty(sim.Changes);
        Assert.Equal("hold at 1: default load 0.95 > target 0.8, not yet for 30s", held.Reason);

        var d = sim.Next(Busy(0.95));
        Assert.Equal(TimeSpan.FromSeconds(30), sim.Elapsed);
        Assert.Equal(ScaleAction.ScaleUp, d.Action);
        Assert.Equal(2, d.To);
        Assert.Equal("scale up 1 -> 2: default load 0.95 > target 0.8 for 30s", d.Reason);
        Assert.Equal(sim.Clock.UtcNow, d.State.LastChangeTime);
    }

    [Fact]
    public void Load_that_fits_after_scaling_up_stays_put()
    {
        var sim = new AutoscalerSim { Current = 1 };
        sim.Run(TimeSpan.FromHours(1), Busy(0.95));
        Assert.Single(sim.Changes);
        Assert.Equal(2, sim.Current);
    }

    [Fact]
    public void A_single_spike_does_not_scale()
    {
        var sim = new AutoscalerSim { Current = 1 };
        var tick = 0;
        sim.Run(TimeSpan.FromMinutes(30), ready => Busy(tick++ % 12 == 6 ? 3.0 : 0.5)(ready));
        Assert.Empty(sim.Changes);
    }

    [Fact]
    public void A_burst_shorter_than_the_window_does_not_scale()
    {
        var sim = new AutoscalerSim { Current = 1 };
        sim.Run(TimeSpan.FromMinutes(1), Busy(0.3));
        sim.Clock.Advance(Tick);
        sim.Run(TimeSpan.FromSeconds(25), Busy(1.0));
        sim.Clock.Advance(Tick);
        sim.Run(TimeSpan.FromMinutes(5), Busy(0.3));
        Assert.Empty(sim.Changes);
    }

    [Fact]
    public void A_dip_restarts_the_scale_up_window()
    {
        var sim = new AutoscalerSim { Current = 1 };
        var tick = 0;
        // High from 0s, one low sample at 20s: the need has held continuously only from 25s.
        sim.Run(TimeSpan.FromSeconds(60), ready => Busy(tick++ == 4 ? 0.2 : 1.0)(ready));
        var up = Assert.Single(sim.Changes);
        Assert.Equal(ScaleAction.ScaleUp, up.Action);
        Assert.Equal(sim.CreateTime + TimeSpan.FromSeconds(55), up.State.LastChangeTime);
    }

    [Fact]
    public void Scale_down_waits_for_the_whole_window()
    {
        var sim = new AutoscalerSim { Current = 4, Min = 1 };
        var held = sim.Run(TimeSpan.FromMinutes(10) - Tick, Busy(1.0));
        Assert.Empty(sim.Changes);
        Assert.Equal("hold at 4: default load 0.25 < target 0.8, not yet for 10m0s", held.Reason);

        var d = sim.Next(Busy(1.0));
        Assert.Equal(ScaleAction.ScaleDown, d.Action);
        Assert.Equal("scale down 4 -> 2: default load 0.25 < target 0.8 for 10m0s", d.Reason);
    }

    [Fact]
    public void A_spike_inside_the_scale_down_window_postpones_it()
    {
        var sim = new AutoscalerSim { Current = 4, Min = 1 };
        var tick = 0;
        // One sample needing 4 replicas at 5m: the count may drop only once it is 10m old.
        sim.Run(TimeSpan.FromMinutes(20), ready => Busy(tick++ == 60 ? 3.0 : 1.0)(ready));
        var down = Assert.Single(sim.Changes);
        Assert.Equal(sim.CreateTime + TimeSpan.FromMinutes(15) + Tick, down.State.LastChangeTime);
    }

    [Fact]
    public void Scale_down_after_scale_up_waits_a_full_down_window_from_the_change()
    {
        var sim = new AutoscalerSim { Current = 1 };
        sim.Run(TimeSpan.FromSeconds(30), Busy(0.95));
        var upAt = Assert.Single(sim.Changes).State.LastChangeTime!.Value;
        sim.Clock.Advance(Tick);
        sim.Run(TimeSpan.FromMinutes(15), Busy(0.1));
        Assert.Equal(2, sim.Changes.Count);
        var down = sim.Changes[1];
        Assert.Equal(ScaleAction.ScaleDown, down.Action);
        Assert.True(down.State.LastChangeTime - upAt >= TimeSpan.FromMinutes(10));
        Assert.True(down.State.LastChangeTime - upAt <= TimeSpan.FromMinutes(10) + 2 * Tick);
    }

    [Fact]
    public void Scale_up_after_a_change_waits_a_full_up_window()
    {
        var sim = new AutoscalerSim { Current = 2 };
        // History is long enough from the start, but the last change was at 50s.
        sim.State = new AutoscalerState(sim.CreateTime + TimeSpan.FromSeconds(50));
        var d = sim.Run(TimeSpan.FromSeconds(75), Busy(3.0));
        Assert.Empty(sim.Changes);
        Assert.Contains("the last change was 25s ago (scale-up window 30s)", d.Reason);
        Assert.Equal(ScaleAction.ScaleUp, sim.Next(Busy(3.0)).Action);
    }

    [Fact]
    public void Zero_windows_act_on_the_newest_sample()
    {
        var sim = new AutoscalerSim
        {
            Current = 1,
            Policy = new() { ScaleUpWindow = TimeSpan.Zero, ScaleDownWindow = TimeSpan.Zero },
        };
        Assert.Equal(ScaleAction.ScaleUp, sim.Step(Busy(1.5)).Action);
        Assert.Equal(ScaleAction.ScaleDown, sim.Next(Busy(0.1)).Action);
        Assert.Equal(1, sim.Current);
    }

    [Fact]
    public void Stale_or_missing_samples_hold()
    {
        var sim = new AutoscalerSim { Current = 2, Min = 1 };
        Assert.Equal("hold at 2: no load samples yet", sim.DecideNow().Reason);
        sim.Step(Busy(0));
        sim.Clock.Advance(TimeSpan.FromHours(1));
        var d = sim.DecideNow();
        Assert.Equal(ScaleAction.Hold, d.Action);
        Assert.Equal("hold at 2: newest load sample is 1h0m0s old", d.Reason);
    }

    [Fact]
    public void Samples_after_now_are_ignored()
    {
        var sim = new AutoscalerSim { Current = 1 };
        sim.Run(TimeSpan.FromSeconds(30), Busy(0.5));
        sim.History.Add(new LoadSample { Time = sim.Clock.UtcNow + TimeSpan.FromMinutes(1), ReadyReplicas = 1, BatchOccupancy = 1 });
        Assert.Equal(ScaleAction.Hold, sim.DecideNow().Action);
    }
}
