using Kiln.Core.Deployments;
using Kiln.Core.Errors;

namespace Kiln.Core.Tests.Replicas;

public class DeploymentStatusRulesTests
{
    private static ReplicaObservation R(string id, ReplicaPhase phase, long generation) => new(id, phase, generation);

    private static DeploymentObservation Observed(DeploymentState state, int desired, params ReplicaObservation[] replicas) => new()
    {
        CurrentState = state,
        CurrentCode = StatusCode.Ok,
        CurrentMessage = "",
        DesiredReplicaCount = desired,
        Replicas = replicas,
    };

    [Fact]
    public void Ready_only_with_a_ready_replica()
    {
        var waiting = DeploymentStatusRules.Decide(Observed(DeploymentState.Creating, 1, R("r", ReplicaPhase.Initializing, 1)));
        Assert.Equal(new StatusChange(DeploymentState.Creating, StatusCode.Ok, "waiting for replicas: 0 of 1 ready, 1 initializing", 0, null), waiting);

        var ready = DeploymentStatusRules.Decide(Observed(DeploymentState.Creating, 1, R("r", ReplicaPhase.Ready, 1)))!;
        Assert.Equal((DeploymentState.Ready, 1L), (ready.State, ready.ObservedGeneration));
        Assert.Equal(new StatusEvent("StateChanged", "CREATING -> READY: 1 of 1 ready"), ready.Event);
    }

    [Fact]
    public void Nothing_is_written_when_nothing_changed()
    {
        var o = Observed(DeploymentState.Ready, 1, R("r", ReplicaPhase.Ready, 1)) with { CurrentMessage = "1 of 1 ready", ObservedGeneration = 1 };
        Assert.Null(DeploymentStatusRules.Decide(o));

        // A new message alone is written, without an event.
        var changed = DeploymentStatusRules.Decide(o with { DesiredReplicaCount = 2 })!;
        Assert.Equal(("1 of 2 ready", (StatusEvent?)null), (changed.Message, changed.Event));
    }

    [Fact]
    public void Observed_generation_reaches_the_generation_once_rolled_out()
    {
        var rolling = Observed(DeploymentState.Ready, 1, R("old", ReplicaPhase.Ready, 1), R("new", ReplicaPhase.Initializing, 2)) with
        {
            Generation = 2,
            ObservedGeneration = 1,
        };
        var updating = DeploymentStatusRules.Decide(rolling)!;
        Assert.Equal((DeploymentState.Updating, 1L), (updating.State, updating.ObservedGeneration));

        var done = DeploymentStatusRules.Decide(rolling with { CurrentState = DeploymentState.Updating, Replicas = [R("new", ReplicaPhase.Ready, 2)] })!;
        Assert.Equal((DeploymentState.Ready, 2L), (done.State, done.ObservedGeneration));
    }

    [Fact]
    public void A_capacity_shortage_is_resource_exhausted_while_serving_or_starting()
    {
        var o = Observed(DeploymentState.Creating, 1, R("r", ReplicaPhase.Pending, 1)) with { CapacityProblem = "insufficient accelerators" };
        var change = DeploymentStatusRules.Decide(o)!;
        Assert.Equal((StatusCode.ResourceExhausted, "insufficient accelerators (waiting for replicas: 0 of 1 ready, 1 pending)"), (change.Code, change.Message));

        var failed = DeploymentStatusRules.Decide(o with { FatalError = "the model file is missing" })!;
        Assert.Equal((DeploymentState.Failed, StatusCode.FailedPrecondition), (failed.State, failed.Code));
    }

    [Fact]
    public void Deletion_is_deleting_until_no_replica_is_left_with_the_requesters_reason_in_front()
    {
        var reason = new DeletionReason(StatusCode.ResourceExhausted, "auto-deleted: over the spend limit");
        var o = Observed(DeploymentState.Ready, 1, R("r", ReplicaPhase.Stopping, 1)) with { DeleteRequested = true, DeletionReason = reason };
        var deleting = DeploymentStatusRules.Decide(o)!;
        Assert.Equal(new StatusChange(DeploymentState.Deleting, StatusCode.ResourceExhausted, "auto-deleted: over the spend limit; stopping 1 replica", 0,
            new StatusEvent("StateChanged", "READY -> DELETING: auto-deleted: over the spend limit; stopping 1 replica")), deleting);

        var deleted = DeploymentStatusRules.Decide(o with { CurrentState = DeploymentState.Deleting, Replicas = [] })!;
        Assert.Equal((DeploymentState.Deleted, "auto-deleted: over the spend limit; deleted", "Deleted"), (deleted.State, deleted.Message, deleted.Event!.Type));

        // A deletion without a reason (the API's) says what is happening and nothing more.
        Assert.Equal("stopping 1 replica", DeploymentStatusRules.Decide(o with { DeletionReason = null })!.Message);
    }
}
