using Kiln.Core.Deployments;
using Kiln.Core.Replicas;

namespace Kiln.Core.Tests.Replicas;

/// <summary>The planner and the status rules for a replica that fetches its model before loading it.</summary>
public class DownloadingReplicaTests
{
    private static readonly DateTimeOffset Now = new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly ReplicaPlanOptions Options = new() { StartTimeout = TimeSpan.FromMinutes(1), MaxReplicaFailures = 3 };
    private static readonly DownloadProgress Half = new(5_000_000, 10_000_000);

    private static ReplicaFacts Replica(ReplicaPhase phase, ProbeHealth health, DownloadProgress? progress = null, TimeSpan? age = null) => new()
    {
        Id = "r",
        Phase = phase,
        Generation = 1,
        StartTime = Now - (age ?? TimeSpan.FromSeconds(10)),
        UpdateTime = Now - (age ?? TimeSpan.FromSeconds(10)),
        HasProcess = true,
        RunsCurrentSpec = true,
        Process = new ProcessObservation.Probed(health, Download: progress),
    };

    private static ReplicaPlan Plan(ReplicaFacts r) => ReplicaPlanner.Plan(new ReplicaPlanInput
    {
        Generation = 1,
        RestartGeneration = 1,
        DesiredReplicaCount = 1,
        Replicas = [r],
        Slots = new SlotFacts(8, 8, 1, "CPU slot"),
        Now = Now,
    }, Options, () => "new");

    [Fact]
    public void An_initializing_replica_that_reports_a_download_becomes_downloading_with_its_progress()
    {
        var plan = Plan(Replica(ReplicaPhase.Initializing, ProbeHealth.Downloading, Half));
        Assert.Equal<ReplicaAction>([new ReplicaAction.MarkDownloading("r")], plan.Actions);
        var r = Assert.Single(plan.Replicas);
        Assert.Equal(ReplicaPhase.Downloading, r.Phase);
        Assert.Equal(Half, r.Download);
    }

    [Fact]
    public void A_download_is_not_cut_short_by_the_start_timeout_and_its_progress_is_kept_without_a_write()
    {
        var plan = Plan(Replica(ReplicaPhase.Downloading, ProbeHealth.Downloading, Half, age: TimeSpan.FromHours(1)));
        Assert.Empty(plan.Actions);
        Assert.Equal(Half, Assert.Single(plan.Replicas).Download);
    }

    [Fact]
    public void A_finished_download_moves_to_initializing_and_the_timeout_counts_from_then()
    {
        var plan = Plan(Replica(ReplicaPhase.Downloading, ProbeHealth.Loading, age: TimeSpan.FromHours(1)));
        Assert.Equal<ReplicaAction>([new ReplicaAction.MarkDownloaded("r")], plan.Actions);
        var r = Assert.Single(plan.Replicas);
        Assert.Equal(ReplicaPhase.Initializing, r.Phase);
        Assert.Equal(Now, r.StartTime);
    }

    [Fact]
    public void A_downloading_replica_that_serves_is_ready_and_one_that_failed_fails_with_the_reason()
    {
        Assert.Equal<ReplicaAction>([new ReplicaAction.MarkReady("r")], Plan(Replica(ReplicaPhase.Downloading, ProbeHealth.Ready)).Actions);
        var failed = Plan(Replica(ReplicaPhase.Downloading, ProbeHealth.Failed) with
        {
            Process = new ProcessObservation.Probed(ProbeHealth.Failed, "checksum mismatch: the downloaded file has SHA-256 ab, expected cd"),
        });
        var fail = Assert.IsType<ReplicaAction.Fail>(Assert.Single(failed.Actions));
        Assert.StartsWith("checksum mismatch", fail.LastError);
        Assert.True(fail.StopProcess);
    }

    [Fact]
    public void Downloading_replicas_are_counted_and_the_status_shows_the_slowest_download()
    {
        var o = new DeploymentObservation
        {
            CurrentState = DeploymentState.Creating,
            Generation = 1,
            DesiredReplicaCount = 2,
            Replicas =
            [
                new ReplicaObservation("a", ReplicaPhase.Downloading, 1, Download: new DownloadProgress(9_000_000, 10_000_000)),
                new ReplicaObservation("b", ReplicaPhase.Downloading, 1, Download: Half),
            ],
        };
        var a = DeploymentLifecycle.Assess(o);
        Assert.Equal(2, a.Stats.Downloading);
        Assert.Equal(2, a.Stats.Total);
        Assert.Equal(DeploymentState.Creating, a.State);
        Assert.Equal("waiting for replicas: 0 of 2 ready, 2 downloading the model: 5.0 of 10.0 MB (50%)", a.Message);
    }

    [Fact]
    public void Progress_reads_in_megabytes_with_or_without_a_known_size()
    {
        Assert.Equal("5.0 of 10.0 MB (50%)", Half.Describe());
        Assert.Equal("1.5 MB", new DownloadProgress(1_500_000, null).Describe());
        Assert.Equal("0.0 MB", new DownloadProgress(0, 0).Describe());
    }
}
