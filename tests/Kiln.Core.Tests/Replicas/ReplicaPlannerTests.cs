using Kiln.Core.Deployments;
using Kiln.Core.Replicas;

namespace Kiln.Core.Tests.Replicas;

public class ReplicaPlannerTests
{
    private static readonly DateTimeOffset Now = new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly ReplicaPlanOptions Options = new()
    {
        StartTimeout = TimeSpan.FromMinutes(1),
        RestartBackoff = TimeSpan.FromSeconds(1),
        MaxRestartBackoff = TimeSpan.FromSeconds(8),
        MaxReplicaFailures = 3,
    };

    /// <summary>A replica of generation 1 with a running process that answered a probe with <paramref name="health"/>.</summary>
    private static ReplicaFacts Running(string id, ReplicaPhase phase, ProbeHealth health = ProbeHealth.Ready, long gen = 1, DateTimeOffset? started = null) => new()
    {
        Id = id,
        Phase = phase,
        Generation = gen,
        StartTime = started ?? Now.AddSeconds(-10),
        UpdateTime = Now.AddSeconds(-10),
        HasProcess = true,
        RunsCurrentSpec = true,
        Process = new ProcessObservation.Probed(health),
    };

    private static ReplicaFacts Idle(string id, ReplicaPhase phase, long gen = 1, int failures = 0, DateTimeOffset? updated = null) => new()
    {
        Id = id,
        Phase = phase,
        Generation = gen,
        FailureCount = failures,
        StartTime = Now.AddMinutes(-5),
        UpdateTime = updated ?? Now.AddMinutes(-5),
    };

    private static ReplicaPlanInput Input(int desired, params ReplicaFacts[] replicas) => new()
    {
        Generation = 1,
        RestartGeneration = 1,
        DesiredReplicaCount = desired,
        Replicas = replicas,
        Slots = new SlotFacts(8, 8, 1, "CPU slot"),
        Now = Now,
    };

    private static ReplicaPlan Plan(ReplicaPlanInput input)
    {
        var n = 0;
        return ReplicaPlanner.Plan(input, Options, () => $"new{++n}");
    }

    private static ReplicaPhase PhaseOf(ReplicaPlan plan, string id) => plan.Replicas.Single(r => r.Id == id).Phase;

    [Fact]
    public void Nothing_to_do_when_the_desired_replicas_serve()
    {
        var plan = Plan(Input(2, Running("a", ReplicaPhase.Ready), Running("b", ReplicaPhase.Ready)));
        Assert.Empty(plan.Actions);
        Assert.Equal(["a", "b"], plan.Replicas.Select(r => r.Id));
        Assert.Null(plan.CapacityProblem);
    }

    [Fact]
    public void Scale_up_creates_and_starts_the_missing_replicas()
    {
        var plan = Plan(Input(3, Running("a", ReplicaPhase.Ready)));
        Assert.Equal<ReplicaAction>(
        [
            new ReplicaAction.Create("new1", 1), new ReplicaAction.Create("new2", 1), new ReplicaAction.Scaled(3),
            new ReplicaAction.Start("new1", 1), new ReplicaAction.Start("new2", 1),
        ], plan.Actions);
        Assert.Equal([ReplicaPhase.Ready, ReplicaPhase.Initializing, ReplicaPhase.Initializing], plan.Replicas.Select(r => r.Phase));
        Assert.All(plan.Replicas.Skip(1), r => Assert.Equal(Now, r.StartTime));
    }

    [Fact]
    public void Scale_up_starts_only_what_fits_in_the_free_slots_and_says_why()
    {
        var plan = Plan(Input(3) with { Slots = new SlotFacts(5, 8, 2, "GPU") });
        Assert.Equal(2, plan.Actions.OfType<ReplicaAction.Start>().Count());
        Assert.Equal("insufficient accelerators: needs 2 GPU(s) per replica, 1 of 8 free", plan.CapacityProblem);
        Assert.Equal(ReplicaPhase.Pending, PhaseOf(plan, "new3"));
    }

    [Fact]
    public void A_replica_larger_than_the_node_after_its_inventory_shrank_waits_with_the_reason()
    {
        var plan = Plan(Input(1) with { Slots = new SlotFacts(2, 2, 4, "NVIDIA_H100_80GB") });
        Assert.Empty(plan.Actions.OfType<ReplicaAction.Start>());
        Assert.Equal("insufficient accelerators: needs 4 NVIDIA_H100_80GB(s) per replica, and the node holds 2", plan.CapacityProblem);
        Assert.Equal(ReplicaPhase.Pending, PhaseOf(plan, "new1"));
    }

    [Fact]
    public void Scale_down_drains_the_least_useful_first()
    {
        var plan = Plan(Input(1,
            Running("old-ready", ReplicaPhase.Ready, started: Now.AddMinutes(-9)),
            Running("new-ready", ReplicaPhase.Ready, started: Now.AddMinutes(-1)),
            Running("loading", ReplicaPhase.Initializing, ProbeHealth.Loading),
            Idle("waiting", ReplicaPhase.Pending)));
        Assert.Equal<ReplicaAction>(
        [
            new ReplicaAction.Stop("waiting", "scaling to 1 replica(s)"),
            new ReplicaAction.Stop("loading", "scaling to 1 replica(s)"),
            new ReplicaAction.Stop("new-ready", "scaling to 1 replica(s)"),
            new ReplicaAction.Scaled(1),
        ], plan.Actions);
        // Those with a process drain as STOPPING; the pending one goes at once.
        Assert.Equal(["old-ready", "new-ready", "loading"], plan.Replicas.Select(r => r.Id));
        Assert.Equal(ReplicaPhase.Stopping, PhaseOf(plan, "new-ready"));
        Assert.True(plan.Replicas.Single(r => r.Id == "loading").StopUnderWay);
    }

    [Fact]
    public void Scale_to_zero_stops_every_replica()
    {
        var plan = Plan(Input(0, Running("a", ReplicaPhase.Ready)));
        Assert.Equal<ReplicaAction>([new ReplicaAction.Stop("a", "scaling to 0 replica(s)"), new ReplicaAction.Scaled(0)], plan.Actions);
    }

    [Fact]
    public void A_crashed_serving_replica_fails_with_a_fresh_count_and_restarts_after_its_backoff()
    {
        var crashed = Running("a", ReplicaPhase.Ready) with { FailureCount = 2, Process = new ProcessObservation.Exited("signal 9 (SIGKILL)", null) };
        var plan = Plan(Input(1, crashed));
        var fail = Assert.IsType<ReplicaAction.Fail>(Assert.Single(plan.Actions));
        Assert.Equal(new ReplicaAction.Fail("a", 1, "exited with signal 9 (SIGKILL)", "ReplicaExited", "replica a exited with signal 9 (SIGKILL)",
            StopProcess: false, ForgetProcess: true), fail);
        var after = Assert.Single(plan.Replicas);
        Assert.Equal((ReplicaPhase.Failed, false, Now), (after.Phase, after.HasProcess, after.UpdateTime));

        // The next pass, one backoff later, restarts it in place.
        var next = Plan(Input(1, after with { Process = null }) with { Now = Now.AddSeconds(1) });
        Assert.Equal<ReplicaAction>([new ReplicaAction.Start("a", 1)], next.Actions);
    }

    [Fact]
    public void An_exit_while_loading_counts_one_more_failure_and_keeps_its_last_line()
    {
        var loading = Running("a", ReplicaPhase.Initializing) with { FailureCount = 1, Process = new ProcessObservation.Exited("code 1", "bad magic") };
        var fail = Assert.IsType<ReplicaAction.Fail>(Plan(Input(1, loading)).Actions[0]);
        Assert.Equal((2, "bad magic", "replica a exited with code 1: bad magic"), (fail.FailureCount, fail.LastError, fail.EventMessage));
    }

    [Fact]
    public void A_model_that_fails_to_load_keeps_the_record_failed_while_its_process_stops()
    {
        var plan = Plan(Input(1, Running("a", ReplicaPhase.Initializing, ProbeHealth.Failed) with { Process = new ProcessObservation.Probed(ProbeHealth.Failed, "out of memory") }));
        var fail = Assert.IsType<ReplicaAction.Fail>(Assert.Single(plan.Actions));
        Assert.Equal(("out of memory", "ReplicaFailed", true, false), (fail.LastError, fail.EventType, fail.StopProcess, fail.ForgetProcess));
        // It still counts as the deployment's one replica: nothing new is created beside it.
        Assert.Equal((ReplicaPhase.Failed, true), (plan.Replicas[0].Phase, plan.Replicas[0].StopUnderWay));
    }

    [Fact]
    public void A_start_past_its_timeout_fails()
    {
        var late = Running("a", ReplicaPhase.Initializing, ProbeHealth.Loading, started: Now.AddMinutes(-2));
        var fail = Assert.IsType<ReplicaAction.Fail>(Assert.Single(Plan(Input(1, late)).Actions));
        Assert.Equal(("not ready within 1m0s", "ReplicaTimedOut", true), (fail.LastError, fail.EventType, fail.StopProcess));
    }

    [Fact]
    public void Health_moves_replicas_between_initializing_and_ready()
    {
        var plan = Plan(Input(2, Running("up", ReplicaPhase.Initializing, ProbeHealth.Ready), Running("down", ReplicaPhase.Ready, ProbeHealth.Unreachable)));
        Assert.Equal<ReplicaAction>([new ReplicaAction.MarkReady("up"), new ReplicaAction.MarkUnhealthy("down", ProbeHealth.Unreachable)], plan.Actions);
        Assert.Equal([ReplicaPhase.Ready, ReplicaPhase.Initializing], plan.Replicas.Select(r => r.Phase));
    }

    [Fact]
    public void Restarts_back_off_and_stop_after_the_maximum_failures()
    {
        Assert.Equal(TimeSpan.FromSeconds(1), Options.Backoff(1));
        Assert.Equal(TimeSpan.FromSeconds(4), Options.Backoff(3));
        Assert.Equal(TimeSpan.FromSeconds(8), Options.Backoff(10));

        var waiting = Idle("a", ReplicaPhase.Failed, failures: 2, updated: Now.AddSeconds(-1));
        Assert.Empty(Plan(Input(1, waiting)).Actions);
        Assert.Equal<ReplicaAction>([new ReplicaAction.Start("a", 1)], Plan(Input(1, waiting with { UpdateTime = Now.AddSeconds(-2) })).Actions);
        Assert.Empty(Plan(Input(1, Idle("a", ReplicaPhase.Failed, failures: 3))).Actions);
    }

    [Fact]
    public void A_fatal_error_starts_nothing()
    {
        var plan = Plan(Input(1) with { FatalError = "base model accounts/a/models/m does not exist" });
        Assert.Equal<ReplicaAction>([new ReplicaAction.Create("new1", 1), new ReplicaAction.Scaled(1)], plan.Actions);
        Assert.Equal(ReplicaPhase.Pending, Assert.Single(plan.Replicas).Phase);
    }

    [Fact]
    public void A_change_that_needs_no_restart_moves_running_replicas_forward()
    {
        var input = Input(1, Running("a", ReplicaPhase.Ready, gen: 1), Idle("p", ReplicaPhase.Pending, gen: 1)) with { Generation = 2, RestartGeneration = 1 };
        var plan = Plan(input);
        Assert.Equal<ReplicaAction>([new ReplicaAction.MoveForward("a", 2), new ReplicaAction.Remove("p")], plan.Actions);
        Assert.Equal(2, Assert.Single(plan.Replicas).Generation);

        // Not when the process runs something else than the spec asks for.
        var other = Plan(input with { Replicas = [Running("a", ReplicaPhase.Ready, gen: 1) with { RunsCurrentSpec = false }] });
        Assert.DoesNotContain(other.Actions, a => a is ReplicaAction.MoveForward);
    }

    [Fact]
    public void A_restart_generation_replaces_old_replicas_once_the_new_ones_serve()
    {
        var input = Input(1, Running("old", ReplicaPhase.Ready, gen: 1)) with { Generation = 2, RestartGeneration = 2 };
        var first = Plan(input);
        Assert.Equal<ReplicaAction>([new ReplicaAction.Create("new1", 2), new ReplicaAction.Scaled(1), new ReplicaAction.Start("new1", 2)], first.Actions);
        Assert.Equal(ReplicaPhase.Ready, PhaseOf(first, "old"));

        var serving = Plan(input with { Replicas = [Running("old", ReplicaPhase.Ready, gen: 1), Running("new", ReplicaPhase.Ready, gen: 2)] });
        Assert.Equal<ReplicaAction>([new ReplicaAction.Stop("old", "replaced by generation 2")], serving.Actions);
    }

    [Fact]
    public void Deletion_stops_every_replica_and_starts_nothing()
    {
        var plan = Plan(Input(2, Running("a", ReplicaPhase.Ready), Idle("p", ReplicaPhase.Pending), Idle("f", ReplicaPhase.Failed, failures: 1)) with { DeleteRequested = true });
        Assert.Equal(
            ["a", "p", "f"],
            plan.Actions.Select(a => Assert.IsType<ReplicaAction.Stop>(a)).Select(s => s.ReplicaId));
        Assert.All(plan.Actions.Cast<ReplicaAction.Stop>(), s => Assert.Equal("the deployment is being deleted", s.Reason));
        Assert.Equal(ReplicaPhase.Stopping, Assert.Single(plan.Replicas).Phase);
    }

    [Fact]
    public void Stops_under_way_are_left_alone_and_interrupted_ones_resumed()
    {
        var underWay = Running("busy", ReplicaPhase.Stopping) with { StopUnderWay = true, Process = null };
        var interrupted = Running("left", ReplicaPhase.Stopping) with { Process = null };
        var plan = Plan(Input(1, underWay, interrupted, Running("a", ReplicaPhase.Ready)));
        Assert.Equal<ReplicaAction>([new ReplicaAction.Stop("left", "finishing an interrupted stop")], plan.Actions);
    }

    [Fact]
    public void Only_running_replicas_not_being_stopped_are_probed()
    {
        Assert.True(ReplicaPlanner.NeedsProbe(Running("a", ReplicaPhase.Ready)));
        Assert.True(ReplicaPlanner.NeedsProbe(Running("a", ReplicaPhase.Initializing)));
        Assert.False(ReplicaPlanner.NeedsProbe(Running("a", ReplicaPhase.Ready) with { StopUnderWay = true }));
        Assert.False(ReplicaPlanner.NeedsProbe(Idle("a", ReplicaPhase.Pending)));
        Assert.False(ReplicaPlanner.NeedsProbe(Idle("a", ReplicaPhase.Failed)));
        Assert.False(ReplicaPlanner.NeedsProbe(Idle("a", ReplicaPhase.Stopping)));
    }

    [Fact]
    public void A_failed_start_shows_in_the_outcome()
    {
        var plan = Plan(Input(1));
        var outcome = Assert.Single(plan.Outcome(new Dictionary<string, string> { ["new1"] = "no such file" }));
        Assert.Equal((ReplicaPhase.Failed, 1, "no such file", false), (outcome.Phase, outcome.FailureCount, outcome.LastError, outcome.HasProcess));
        Assert.Same(plan.Replicas, plan.Outcome(new Dictionary<string, string>()));
    }
}
