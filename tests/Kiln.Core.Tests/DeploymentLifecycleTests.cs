using Kiln.Core.Deployments;
using Kiln.Core.Errors;

namespace Kiln.Core.Tests;

public class DeploymentLifecycleTests
{
    private static ReplicaObservation R(string id, ReplicaPhase phase, long gen = 1, int failures = 0, string? error = null) =>
        new(id, phase, gen, failures, error);

    private static DeploymentAssessment Assess(DeploymentState current, int desired, params ReplicaObservation[] replicas) =>
        DeploymentLifecycle.Assess(new DeploymentObservation
        {
            CurrentState = current,
            DesiredReplicaCount = desired,
            Replicas = replicas,
        });

    [Fact]
    public void Creating_until_first_replica_is_ready()
    {
        var a = Assess(DeploymentState.Creating, 1, R("r1", ReplicaPhase.Initializing));
        Assert.Equal(DeploymentState.Creating, a.State);
        Assert.Equal(StatusCode.Ok, a.Code);
        Assert.Equal("waiting for replicas: 0 of 1 ready, 1 initializing", a.Message);
        Assert.Equal(0, a.ObservedGeneration);

        var b = Assess(DeploymentState.Creating, 2, R("r1", ReplicaPhase.Ready), R("r2", ReplicaPhase.Pending));
        Assert.Equal(DeploymentState.Ready, b.State);
        Assert.Equal("1 of 2 ready, 1 pending", b.Message);
    }

    [Fact]
    public void Unspecified_behaves_like_creating() =>
        Assert.Equal(DeploymentState.Creating, Assess(DeploymentState.Unspecified, 1).State);

    [Fact]
    public void New_deployment_with_zero_desired_is_ready()
    {
        var a = Assess(DeploymentState.Creating, 0);
        Assert.Equal(DeploymentState.Ready, a.State);
        Assert.Equal("scaled to zero; the next request wakes it", a.Message);
        Assert.Equal(1, a.ObservedGeneration);
    }

    [Theory]
    [InlineData(ReplicaPhase.Initializing)] // woken from zero
    [InlineData(ReplicaPhase.Failed)] // its only replica crashed and is being replaced
    public void Ready_needs_a_ready_replica_when_some_are_desired(ReplicaPhase phase)
    {
        var a = DeploymentLifecycle.Assess(new DeploymentObservation
        {
            CurrentState = DeploymentState.Ready,
            Generation = 1,
            ObservedGeneration = 1,
            DesiredReplicaCount = 1,
            Replicas = [R("r1", phase)],
        });
        Assert.Equal(DeploymentState.Creating, a.State);
        Assert.StartsWith("waiting for replicas: 0 of 1 ready", a.Message);
        Assert.Equal(DeploymentState.Ready, Assess(DeploymentState.Creating, 1, R("r1", ReplicaPhase.Ready)).State);
    }

    [Fact]
    public void Ready_stays_ready_while_autoscaling()
    {
        var a = DeploymentLifecycle.Assess(new DeploymentObservation
        {
            CurrentState = DeploymentState.Ready,
            Generation = 2,
            ObservedGeneration = 2,
            DesiredReplicaCount = 3,
            Replicas = [R("r1", ReplicaPhase.Ready, 2), R("r2", ReplicaPhase.Initializing, 2)],
        });
        Assert.Equal(DeploymentState.Ready, a.State);
        Assert.Equal(2, a.ObservedGeneration);
    }

    [Fact]
    public void Ready_with_replicas_gone_after_scale_to_zero() =>
        Assert.Equal(DeploymentState.Ready, Assess(DeploymentState.Ready, 0).State);

    [Fact]
    public void Spec_change_rolls_out_as_updating_then_ready()
    {
        var during = DeploymentLifecycle.Assess(new DeploymentObservation
        {
            CurrentState = DeploymentState.Ready,
            Generation = 2,
            ObservedGeneration = 1,
            DesiredReplicaCount = 1,
            Replicas = [R("old", ReplicaPhase.Ready, 1), R("new", ReplicaPhase.Initializing, 2)],
        });
        Assert.Equal(DeploymentState.Updating, during.State);
        Assert.Equal("rolling out generation 2: 0 of 1 replicas updated and ready", during.Message);
        Assert.Equal(1, during.ObservedGeneration);

        var stillDraining = DeploymentLifecycle.Assess(new DeploymentObservation
        {
            CurrentState = DeploymentState.Updating,
            Generation = 2,
            ObservedGeneration = 1,
            DesiredReplicaCount = 1,
            Replicas = [R("old", ReplicaPhase.Stopping, 1), R("new", ReplicaPhase.Ready, 2)],
        });
        Assert.Equal(DeploymentState.Ready, stillDraining.State);
        Assert.Equal(2, stillDraining.ObservedGeneration);
    }

    [Fact]
    public void Old_generation_replica_still_serving_keeps_updating()
    {
        var a = DeploymentLifecycle.Assess(new DeploymentObservation
        {
            CurrentState = DeploymentState.Updating,
            Generation = 3,
            ObservedGeneration = 2,
            DesiredReplicaCount = 1,
            Replicas = [R("old", ReplicaPhase.Ready, 2), R("new", ReplicaPhase.Ready, 3)],
        });
        Assert.Equal(DeploymentState.Updating, a.State);
    }

    [Fact]
    public void Spec_change_at_zero_replicas_completes_at_once()
    {
        var a = DeploymentLifecycle.Assess(new DeploymentObservation
        {
            CurrentState = DeploymentState.Ready,
            Generation = 5,
            ObservedGeneration = 4,
            DesiredReplicaCount = 0,
        });
        Assert.Equal((DeploymentState.Ready, 5L), (a.State, a.ObservedGeneration));
    }

    [Fact]
    public void Delete_is_deleting_until_replicas_are_gone_then_deleted()
    {
        var deleting = DeploymentLifecycle.Assess(new DeploymentObservation
        {
            CurrentState = DeploymentState.Ready,
            DeleteRequested = true,
            Replicas = [R("r1", ReplicaPhase.Stopping), R("r2", ReplicaPhase.Ready)],
        });
        Assert.Equal(DeploymentState.Deleting, deleting.State);
        Assert.Equal("stopping 2 replicas", deleting.Message);

        var deleted = DeploymentLifecycle.Assess(new DeploymentObservation { CurrentState = DeploymentState.Deleting, DeleteRequested = true });
        Assert.Equal(DeploymentState.Deleted, deleted.State);
    }

    [Fact]
    public void Deleted_is_terminal() =>
        Assert.Equal(DeploymentState.Deleted, Assess(DeploymentState.Deleted, 1, R("r", ReplicaPhase.Ready)).State);

    [Fact]
    public void Delete_wins_over_failure()
    {
        var a = DeploymentLifecycle.Assess(new DeploymentObservation { CurrentState = DeploymentState.Failed, DeleteRequested = true, FatalError = "boom" });
        Assert.Equal(DeploymentState.Deleted, a.State);
    }

    [Fact]
    public void Fatal_error_fails_with_reason()
    {
        var a = DeploymentLifecycle.Assess(new DeploymentObservation
        {
            CurrentState = DeploymentState.Creating,
            DesiredReplicaCount = 1,
            FatalError = "model file /m.gguf is missing",
        });
        Assert.Equal(DeploymentState.Failed, a.State);
        Assert.Equal(StatusCode.FailedPrecondition, a.Code);
        Assert.Equal("model file /m.gguf is missing", a.Message);
    }

    [Fact]
    public void Crash_looping_replica_with_none_ready_fails()
    {
        var a = Assess(DeploymentState.Creating, 1, R("r1", ReplicaPhase.Failed, failures: 3, error: "exit code 1"));
        Assert.Equal(DeploymentState.Failed, a.State);
        Assert.Equal(StatusCode.Unavailable, a.Code);
        Assert.Equal("replica r1 failed 3 times in a row: exit code 1", a.Message);
    }

    [Fact]
    public void Crash_looping_replica_is_tolerated_while_another_serves() =>
        Assert.Equal(DeploymentState.Ready, Assess(DeploymentState.Ready, 2, R("r1", ReplicaPhase.Failed, failures: 9), R("r2", ReplicaPhase.Ready)).State);

    [Fact]
    public void Failures_below_threshold_keep_creating() =>
        Assert.Equal(DeploymentState.Creating, Assess(DeploymentState.Creating, 1, R("r1", ReplicaPhase.Failed, failures: 2)).State);

    [Fact]
    public void Failed_recovers_through_creating_then_ready()
    {
        Assert.Equal(DeploymentState.Creating, Assess(DeploymentState.Failed, 1, R("r1", ReplicaPhase.Initializing)).State);
        Assert.Equal(DeploymentState.Ready, Assess(DeploymentState.Failed, 1, R("r1", ReplicaPhase.Ready)).State);
    }

    [Fact]
    public void Stats_count_phases()
    {
        var a = Assess(DeploymentState.Ready, 4, R("a", ReplicaPhase.Ready), R("b", ReplicaPhase.Ready), R("c", ReplicaPhase.Pending), R("d", ReplicaPhase.Stopping));
        Assert.Equal(new ReplicaStats(1, 0, 2, 0, 1), a.Stats);
        Assert.Equal(4, a.Stats.Total);
    }

    [Fact]
    public void Desired_replica_helpers()
    {
        var spec = DeploymentSpecs.Create(new DeploymentSpecPatch { BaseModel = "accounts/a/models/m", MinReplicaCount = 1, MaxReplicaCount = 3 });
        Assert.Equal(1, DesiredReplicas.Clamp(0, spec));
        Assert.Equal(3, DesiredReplicas.Clamp(7, spec));
        Assert.Equal(2, DesiredReplicas.Clamp(2, spec));
        Assert.Equal(1, DesiredReplicas.ForWake(0, spec));
        Assert.Equal(2, DesiredReplicas.ForWake(2, spec));
        Assert.Equal(1, DesiredReplicas.Initial(spec));
        var zero = DeploymentSpecs.Create(new DeploymentSpecPatch { BaseModel = "accounts/a/models/m" });
        Assert.Equal(1, DesiredReplicas.Initial(zero));
        Assert.Equal(0, DesiredReplicas.Clamp(0, zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => DesiredReplicas.Clamp(1, 3, 2));
    }

    [Fact]
    public void State_wire_names()
    {
        Assert.Equal("STATE_UNSPECIFIED", DeploymentState.Unspecified.ToWireName());
        Assert.Equal("UPDATING", DeploymentState.Updating.ToWireName());
        Assert.True(DeploymentStates.TryParse("DELETING", out var s));
        Assert.True(s.IsGoingAway());
        Assert.Equal("INITIALIZING", ReplicaPhase.Initializing.ToWireName());
        Assert.True(ReplicaPhases.TryParse("STOPPING", out var p));
        Assert.Equal(ReplicaPhase.Stopping, p);
    }
}
