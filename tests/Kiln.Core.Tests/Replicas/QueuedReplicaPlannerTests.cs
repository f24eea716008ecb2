using Kiln.Core.Deployments;
using Kiln.Core.Replicas;

namespace Kiln.Core.Tests.Replicas;

/// <summary>Replicas a cluster scheduler holds in its queue (Slurm PENDING), and clusters that queue instead of refusing.</summary>
public class QueuedReplicaPlannerTests
{
    private static readonly DateTimeOffset Now = new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly ReplicaPlanOptions Options = new() { StartTimeout = TimeSpan.FromMinutes(1) };

    private static ReplicaFacts Submitted(string id, ReplicaPhase phase, ProcessObservation seen, string? reason = null, TimeSpan? age = null) => new()
    {
        Id = id,
        Phase = phase,
        Generation = 1,
        StartTime = Now - (age ?? TimeSpan.FromHours(2)),
        UpdateTime = Now - TimeSpan.FromSeconds(1),
        HasProcess = true,
        RunsCurrentSpec = true,
        WaitReason = reason,
        Process = seen,
    };

    private static ReplicaPlan Plan(int desired, SlotFacts? slots = null, long generation = 1, params ReplicaFacts[] replicas)
    {
        var n = 0;
        return ReplicaPlanner.Plan(new ReplicaPlanInput
        {
            Generation = generation,
            RestartGeneration = generation,
            DesiredReplicaCount = desired,
            Replicas = replicas,
            Slots = slots ?? SlotFacts.Cluster(8, 2, "GPU"),
            Now = Now,
        }, Options, () => $"new{++n}");
    }

    [Fact]
    public void A_started_replica_the_scheduler_queues_becomes_pending_with_the_reason_and_never_times_out()
    {
        var queued = new ProcessObservation.Waiting("queued by Slurm (Resources)");
        var plan = Plan(1, replicas: Submitted("a", ReplicaPhase.Initializing, queued));
        Assert.Equal([new ReplicaAction.MarkWaiting("a", "queued by Slurm (Resources)")], plan.Actions);
        var a = Assert.Single(plan.Replicas);
        Assert.Equal((ReplicaPhase.Pending, "queued by Slurm (Resources)", true), (a.Phase, a.WaitReason, a.HasProcess));

        // Two hours in the queue: no failure, no restart, no second job, and no write while the reason holds.
        var again = Plan(1, replicas: Submitted("a", ReplicaPhase.Pending, queued, "queued by Slurm (Resources)"));
        Assert.Empty(again.Actions);
        Assert.Null(again.CapacityProblem);
    }

    [Fact]
    public void A_new_reason_is_recorded()
    {
        var plan = Plan(1, replicas: Submitted("a", ReplicaPhase.Pending, new ProcessObservation.Waiting("queued by Slurm (Priority)"), "queued by Slurm (Resources)"));
        Assert.Equal([new ReplicaAction.MarkWaiting("a", "queued by Slurm (Priority)")], plan.Actions);
    }

    [Fact]
    public void Once_scheduled_its_start_timeout_counts_from_then()
    {
        var plan = Plan(1, replicas: Submitted("a", ReplicaPhase.Pending, new ProcessObservation.Probed(ProbeHealth.Unreachable), "queued by Slurm (Resources)"));
        Assert.Equal([new ReplicaAction.MarkRunning("a")], plan.Actions);
        var a = Assert.Single(plan.Replicas);
        Assert.Equal((ReplicaPhase.Initializing, (string?)null, Now), (a.Phase, a.WaitReason, a.StartTime));
    }

    [Fact]
    public void A_queued_replica_whose_job_starts_by_downloading_its_model_is_downloading()
    {
        var progress = new DownloadProgress(5, 10);
        var plan = Plan(1, replicas: Submitted("a", ReplicaPhase.Pending, new ProcessObservation.Probed(ProbeHealth.Downloading, Download: progress), "queued by Slurm (Resources)"));
        Assert.Equal([new ReplicaAction.MarkRunning("a"), new ReplicaAction.MarkDownloading("a")], plan.Actions);
        var a = Assert.Single(plan.Replicas);
        Assert.Equal((ReplicaPhase.Downloading, (string?)null, Now, progress), (a.Phase, a.WaitReason, a.StartTime, a.Download));
    }

    [Fact]
    public void A_queued_replica_that_serves_at_once_is_ready()
    {
        var plan = Plan(1, replicas: Submitted("a", ReplicaPhase.Pending, new ProcessObservation.Probed(ProbeHealth.Ready), "queued by Slurm (None)"));
        Assert.Equal([new ReplicaAction.MarkReady("a")], plan.Actions);
        Assert.Null(Assert.Single(plan.Replicas).WaitReason);
    }

    [Fact]
    public void A_queued_job_that_ends_fails_the_replica_with_the_schedulers_word()
    {
        var plan = Plan(1, replicas: Submitted("a", ReplicaPhase.Pending, new ProcessObservation.Exited("Slurm job 7 CANCELLED", null), "queued by Slurm (Resources)"));
        var fail = Assert.IsType<ReplicaAction.Fail>(Assert.Single(plan.Actions));
        Assert.Equal(("exited with Slurm job 7 CANCELLED", true, false), (fail.LastError, fail.ForgetProcess, fail.StopProcess));
    }

    [Fact]
    public void Scaling_down_cancels_queued_replicas_before_serving_ones()
    {
        var serving = Submitted("a", ReplicaPhase.Ready, new ProcessObservation.Probed(ProbeHealth.Ready), age: TimeSpan.FromMinutes(1));
        var queued = Submitted("b", ReplicaPhase.Pending, new ProcessObservation.Waiting("queued by Slurm (Resources)"), "queued by Slurm (Resources)", TimeSpan.FromMinutes(5));
        var plan = Plan(1, replicas: [serving, queued]);
        Assert.Equal<ReplicaAction>([new ReplicaAction.Stop("b", "scaling to 1 replica(s)"), new ReplicaAction.Scaled(1)], plan.Actions);
        Assert.Equal(ReplicaPhase.Stopping, plan.Replicas.Single(r => r.Id == "b").Phase);
    }

    [Fact]
    public void A_queued_replica_of_an_older_generation_is_cancelled_not_orphaned()
    {
        var queued = Submitted("a", ReplicaPhase.Pending, new ProcessObservation.Waiting("queued by Slurm (Resources)"), "queued by Slurm (Resources)");
        var plan = Plan(1, generation: 2, replicas: queued);
        Assert.Contains(new ReplicaAction.Stop("a", "replaced by generation 2"), plan.Actions);
        Assert.Contains(new ReplicaAction.Start("new1", 2), plan.Actions);
    }

    [Fact]
    public void A_cluster_starts_every_replica_that_fits_a_node_and_lets_its_scheduler_queue_them()
    {
        var plan = Plan(6, SlotFacts.Cluster(8, 2, "GPU"));
        Assert.Equal(6, plan.Actions.OfType<ReplicaAction.Start>().Count());
        Assert.Null(plan.CapacityProblem);
    }

    [Fact]
    public void A_replica_larger_than_every_node_is_refused_with_the_reason()
    {
        var plan = Plan(1, SlotFacts.Cluster(8, 16, "GPU"));
        Assert.Empty(plan.Actions.OfType<ReplicaAction.Start>());
        Assert.Equal("insufficient accelerators: needs 16 GPU(s) per replica, and no node of the cluster has more than 8", plan.CapacityProblem);
        Assert.Equal(ReplicaPhase.Pending, Assert.Single(plan.Replicas).Phase);
    }

    [Fact]
    public void The_status_message_says_why_replicas_wait()
    {
        var assessment = DeploymentLifecycle.Assess(new DeploymentObservation
        {
            CurrentState = DeploymentState.Creating,
            DesiredReplicaCount = 3,
            Replicas =
            [
                new ReplicaObservation("a", ReplicaPhase.Initializing, 1),
                new ReplicaObservation("b", ReplicaPhase.Pending, 1, WaitReason: "queued by Slurm (Resources)"),
                new ReplicaObservation("c", ReplicaPhase.Pending, 1, WaitReason: "queued by Slurm (Resources)"),
            ],
        });
        Assert.Equal((DeploymentState.Creating, "waiting for replicas: 0 of 3 ready, 1 initializing, 2 pending (queued by Slurm (Resources))"),
            (assessment.State, assessment.Message));
    }
}
