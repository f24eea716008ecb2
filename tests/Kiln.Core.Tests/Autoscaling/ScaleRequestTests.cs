using Kiln.Core.Autoscaling;
using Kiln.Core.Deployments;
using Kiln.Core.Errors;
using static Kiln.Core.Tests.Autoscaling.AutoscalerSim;

namespace Kiln.Core.Tests.Autoscaling;

/// <summary><c>:scale</c>: a requested count is set at once and holds until the windows say otherwise.</summary>
public class ScaleRequestTests
{
    private static AutoscaleDecision Request(AutoscalerSim sim, int count)
    {
        var d = Autoscaler.Requested(sim.State, sim.Input(), count);
        sim.State = d.State;
        sim.Current = d.To;
        return d;
    }

    [Fact]
    public void A_requested_count_holds_for_the_scale_down_window_then_load_lowers_it()
    {
        var sim = new AutoscalerSim { Max = 4 };
        sim.Run(TimeSpan.FromMinutes(1), Busy(0.5));
        var d = Request(sim, 3);
        Assert.Equal((ScaleAction.Requested, 1, 3), (d.Action, d.From, d.To));
        Assert.StartsWith("scale 1 -> 3: requested; load may raise it after 30s (the scale-up window)", d.Reason);

        sim.Run(TimeSpan.FromMinutes(10) - Tick, Busy(0.5));
        Assert.Equal(3, sim.Current);
        sim.Run(TimeSpan.FromMinutes(1), Busy(0.5));
        Assert.Equal(ScaleAction.ScaleDown, sim.Changes[^1].Action);
        Assert.True(sim.Current < 3);
    }

    [Fact]
    public void Load_above_target_raises_a_requested_count_after_the_scale_up_window()
    {
        var sim = new AutoscalerSim { Max = 8 };
        Request(sim, 2);
        sim.Run(TimeSpan.FromSeconds(25), Busy(4));
        Assert.Equal(2, sim.Current);
        sim.Run(TimeSpan.FromSeconds(40), Busy(4));
        Assert.True(sim.Current > 2, $"still {sim.Current}");
    }

    [Fact]
    public void A_request_restarts_the_scale_to_zero_clock()
    {
        var sim = new AutoscalerSim { RequestsArrive = false, Policy = new() { ScaleToZeroWindow = TimeSpan.FromMinutes(5) } };
        sim.Run(TimeSpan.FromMinutes(6), Idle);
        Assert.Equal(0, sim.Current);

        Request(sim, 1);
        sim.Run(TimeSpan.FromMinutes(5) - Tick, Idle);
        Assert.Equal(1, sim.Current);
        sim.Run(TimeSpan.FromMinutes(1), Idle);
        Assert.Equal((ScaleAction.ScaleToZero, 0), (sim.Changes[^1].Action, sim.Current));
    }

    [Fact]
    public void A_request_outside_bounds_that_moved_is_clamped()
    {
        var sim = new AutoscalerSim { Min = 1, Max = 2 };
        var d = Request(sim, 5);
        Assert.Equal(2, d.To);
        Assert.StartsWith("scale 1 -> 2: requested 5, within [1, 2];", d.Reason);
    }

    [Theory]
    [InlineData(5, "replicaCount: 5 is outside the deployment's bounds [minReplicaCount 1, maxReplicaCount 3]; raise maxReplicaCount to at least 5 first (update deployment)")]
    [InlineData(0, "replicaCount: 0 is outside the deployment's bounds [minReplicaCount 1, maxReplicaCount 3]; lower minReplicaCount to at most 0 first (update deployment)")]
    [InlineData(-1, "replicaCount: must not be negative, got -1")]
    public void Counts_outside_the_bounds_are_refused_naming_them(int count, string message)
    {
        var spec = new DeploymentSpec { BaseModel = "accounts/a/models/m", MinReplicaCount = 1, MaxReplicaCount = 3 };
        var e = Assert.Throws<KilnError>(() => ScaleOutlook.RequireWithinBounds(count, spec));
        Assert.Equal(StatusCode.InvalidArgument, e.Code);
        Assert.Contains(message, e.Message);
        ScaleOutlook.RequireWithinBounds(3, spec);
    }

    [Fact]
    public void The_outlook_says_what_the_autoscaler_does_next()
    {
        var spec = new DeploymentSpec { BaseModel = "accounts/a/models/m", MinReplicaCount = 0, MaxReplicaCount = 4 };
        Assert.Equal("the autoscaler sets the desired replica count to 2 at once; then load may raise it after 30s (the scale-up window) above its targets, "
            + "and lower it only after 10m0s (the scale-down window) of lower load, and to zero after 1h0m0s (the scale-to-zero window) without requests",
            ScaleOutlook.Describe(spec, 2));
        Assert.Contains("not below minReplicaCount 1", ScaleOutlook.Describe(spec with { MinReplicaCount = 1 }, 2));
        Assert.EndsWith("it stays at zero until a request arrives, which wakes it to its first replica", ScaleOutlook.Describe(spec, 0));
    }
}
