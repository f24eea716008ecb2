using Kiln.Core.Autoscaling;
using Kiln.Core.Deployments;

namespace Kiln.Core.Tests.Autoscaling;

public class AutoscalerInputTests
{
    [Fact]
    public void Input_for_a_spec_takes_its_bounds_and_policy()
    {
        var spec = new DeploymentSpec
        {
            BaseModel = "accounts/a/models/m",
            MinReplicaCount = 1,
            MaxReplicaCount = 3,
            AutoscalingPolicy = new() { ScaleUpWindow = TimeSpan.FromSeconds(5) },
        };
        var now = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var input = AutoscalerInput.For(spec, 2, now.AddHours(-1), now);
        Assert.Equal((1, 3, 2), (input.MinReplicas, input.MaxReplicas, input.CurrentReplicas));
        Assert.Same(spec.AutoscalingPolicy, input.Policy);
        Assert.Equal((now.AddHours(-1), now), (input.CreateTime, input.Now));
    }

    [Fact]
    public void Inconsistent_input_is_rejected()
    {
        var ok = new AutoscalerInput { MinReplicas = 0, MaxReplicas = 1, CurrentReplicas = 0, CreateTime = default, Now = default };
        Assert.Equal(ScaleAction.Hold, Autoscaler.Decide(AutoscalerState.Initial, ok).Action);
        Assert.Throws<ArgumentOutOfRangeException>(() => Autoscaler.Decide(AutoscalerState.Initial, ok with { MaxReplicas = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Autoscaler.Decide(AutoscalerState.Initial, ok with { MinReplicas = 2 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Autoscaler.Decide(AutoscalerState.Initial, ok with { CurrentReplicas = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Autoscaler.Decide(AutoscalerState.Initial, ok with { HeldRequests = -1 }));
    }

    [Fact]
    public void Windows_longer_than_the_calendar_do_not_overflow()
    {
        var forever = TimeSpan.FromDays(365 * 10_000);
        var sim = new AutoscalerSim
        {
            Current = 2,
            Min = 1,
            Policy = new() { ScaleUpWindow = forever, ScaleDownWindow = forever, ScaleToZeroWindow = forever },
        };
        sim.Run(TimeSpan.FromMinutes(5), AutoscalerSim.Busy(0));
        Assert.Empty(sim.Changes);
        // Appending at the same horizon drops nothing: the start saturates instead of wrapping around.
        var kept = new List<LoadSample>(sim.History);
        LoadHistory.Append(kept, new LoadSample { Time = sim.Clock.UtcNow, ReadyReplicas = 2 }, sim.Clock.UtcNow, sim.Policy);
        Assert.Equal(sim.History.Count + 1, kept.Count);
    }
}
