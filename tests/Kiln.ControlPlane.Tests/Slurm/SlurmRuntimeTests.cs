using Kiln.Core.Deployments;
using Kiln.Core.Replicas;
using Kiln.Runtime;
using Kiln.Runtime.Local;
using Kiln.Runtime.Slurm;

namespace Kiln.ControlPlane.Tests.Slurm;

/// <summary>
/// <see cref="SlurmRuntime"/> against stand-in Slurm commands (<see cref="FakeSlurm"/>): what it
/// submits, how each job state reaches the replica, what it keeps while slurmctld is away, how it
/// drains and cancels, and how a new server process adopts the jobs an earlier one left.
/// </summary>
public sealed class SlurmRuntimeTests : IDisposable
{
    private static readonly ReplicaCommand Command = new("/opt/kiln/kiln", []);
    private readonly FakeSlurm _slurm = new();

    public void Dispose() => _slurm.Dispose();

    [Fact]
    public async Task A_replica_is_one_job_that_waits_then_runs_at_its_nodes_address_and_ends_with_slurms_word_for_it()
    {
        using var runtime = await SlurmRuntime.ConnectAsync(_slurm.Options, Command);
        var handle = await runtime.StartAsync(Launch("r-1", worldSize: 2, token: "secret-token"));
        Assert.Equal(("100", false, false), (handle.Handle.SlurmJobId, handle.HasEndpoint, handle.Adopted));

        var args = _slurm.SubmittedArgs("100");
        Assert.Equal(["--parsable", "--no-requeue", $"--job-name={runtime.JobPrefix}.acme.web.r-1", "--nodes=1", "--ntasks=1", "--gres=gpu:2", "--partition=gpu"], args.Take(7));
        Assert.StartsWith("--wrap=exec '/opt/kiln/kiln' 'replica' ", args[^1]);
        Assert.EndsWith($"'--endpoint-file' '{_slurm.RunDir}/acme/web/r-1.endpoint.'\"$SLURM_JOB_ID\"", args[^1]);
        // The download token reaches the job through sbatch's environment, never its command line.
        Assert.DoesNotContain(args, a => a.Contains("secret-token", StringComparison.Ordinal));
        Assert.Equal("secret-token", _slurm.SubmittedToken("100"));

        // Queued: a fresh job counts as pending until squeue says more, then shows Slurm's reason.
        Assert.Equal(ReplicaStatus.Waiting("queued by Slurm"), runtime.GetStatus(handle));
        _slurm.SetJob("100", "PENDING", "Resources");
        await runtime.RefreshAsync();
        Assert.Equal(ReplicaStatus.Waiting("queued by Slurm (Resources)"), runtime.GetStatus(handle));

        // Running: reached at its node's address once the replica wrote the port it bound on every interface.
        _slurm.SetJob("100", "RUNNING", node: "node1");
        await runtime.RefreshAsync();
        Assert.Equal(ReplicaStatus.Running, runtime.GetStatus(handle));
        Assert.False(runtime.Find("r-1")!.HasEndpoint);
        await File.WriteAllTextAsync(Path.Combine(_slurm.RunDir, "acme", "web", "r-1.endpoint.100"), "0.0.0.0:41234\n");
        await runtime.RefreshAsync();
        Assert.Equal(new Uri("http://10.0.0.7:41234/"), runtime.Find("r-1")!.BaseUri);

        // Ended: Slurm's word for it, with the last error in the replica's log.
        await File.AppendAllTextAsync(runtime.LogPath(handle.Replica), """{"LogLevel":"Error","Message":"out of time"}""" + "\n");
        _slurm.SetJob("100", "TIMEOUT");
        await runtime.RefreshAsync();
        Assert.Equal(ReplicaStatus.Ended(new ReplicaExit(null, "out of time", "Slurm job 100 TIMEOUT")), runtime.GetStatus(handle));
        _slurm.RemoveJob("100");
        await runtime.RefreshAsync();
        Assert.Equal("Slurm job 100 left the queue", runtime.GetStatus(handle).Exit?.How);
    }

    [Fact]
    public async Task Every_ending_state_fails_its_replica_and_every_waiting_state_keeps_it_queued()
    {
        using var runtime = await SlurmRuntime.ConnectAsync(_slurm.Options, Command);
        string[] ended = ["COMPLETED", "FAILED", "CANCELLED", "NODE_FAIL", "PREEMPTED", "TIMEOUT", "OUT_OF_MEMORY"];
        string[] waiting = ["PENDING", "CONFIGURING", "SUSPENDED", "REQUEUE_HOLD"];
        var states = ended.Concat(waiting).ToList();
        var handles = new List<ReplicaHandle>();
        foreach (var (state, i) in states.Select((s, i) => (s, i)))
        {
            var h = await runtime.StartAsync(Launch($"r-{i}", worldSize: 1, type: AcceleratorType.Cpu));
            Assert.Contains("--cpus-per-task=1", _slurm.SubmittedArgs(h.Handle.SlurmJobId!));
            _slurm.SetJob(h.Handle.SlurmJobId!, state, node: "node1");
            handles.Add(h);
        }
        await runtime.RefreshAsync();
        foreach (var (state, h) in states.Zip(handles))
        {
            var status = runtime.GetStatus(h);
            if (ended.Contains(state))
            {
                Assert.Equal($"Slurm job {h.Handle.SlurmJobId} {state}", status.Exit?.How);
            }
            else
            {
                Assert.True(status.Exit is null && status.WaitReason is not null, $"{state}: {status}");
            }
        }
    }

    [Fact]
    public async Task While_slurmctld_does_not_answer_the_last_view_stays_and_nothing_is_written_off()
    {
        using var runtime = await SlurmRuntime.ConnectAsync(_slurm.Options, Command);
        var handle = await runtime.StartAsync(Launch("r-1"));
        _slurm.SetJob("100", "RUNNING", node: "node1");
        await File.WriteAllTextAsync(Path.Combine(_slurm.RunDir, "acme", "web", "r-1.endpoint.100"), "10.0.0.9:5000");
        await runtime.RefreshAsync();

        _slurm.ControllerDown = true;
        _slurm.SetJob("100", "CANCELLED"); // what squeue would say, but cannot
        await runtime.RefreshAsync();
        Assert.Contains("Unable to contact slurm controller", runtime.LastError);
        Assert.Equal(ReplicaStatus.Running, runtime.GetStatus(handle));
        Assert.Equal(new Uri("http://10.0.0.9:5000/"), Assert.Single(runtime.List()).BaseUri);

        _slurm.ControllerDown = false;
        await runtime.RefreshAsync();
        Assert.Null(runtime.LastError);
        Assert.Equal("Slurm job 100 CANCELLED", runtime.GetStatus(handle).Exit?.How);
    }

    [Fact]
    public async Task Stopping_drains_a_running_job_cancels_one_past_the_drain_and_cancels_a_queued_one_at_once()
    {
        using var runtime = await SlurmRuntime.ConnectAsync(_slurm.Options, Command);
        var drained = await runtime.StartAsync(Launch("r-1"));
        var stuck = await runtime.StartAsync(Launch("r-2"));
        var queued = await runtime.StartAsync(Launch("r-3"));
        _slurm.SetJob("100", "RUNNING", node: "node1");
        _slurm.SetJob("101", "RUNNING", node: "node1");
        await runtime.RefreshAsync();

        await runtime.StopAsync(drained, TimeSpan.FromSeconds(30));
        Assert.Equal(["--signal=TERM --full 100"], _slurm.Cancels());
        Assert.Equal("COMPLETED", _slurm.StateOf("100"));

        _slurm.IgnoreTerm = true;
        await runtime.StopAsync(stuck, TimeSpan.FromMilliseconds(300));
        Assert.Equal(["--signal=TERM --full 101", "101"], _slurm.Cancels().Skip(1));
        Assert.Equal("CANCELLED", _slurm.StateOf("101"));

        await runtime.StopAsync(queued, TimeSpan.FromSeconds(30));
        Assert.Equal("102", _slurm.Cancels()[^1]);
        Assert.Empty(runtime.List());
    }

    [Fact]
    public async Task A_new_server_process_adopts_its_installations_jobs_by_name_and_id_and_touches_no_other_job()
    {
        var prefix = JobPrefixes.ForRunDir(_slurm.RunDir);
        var comment = JobComment.Format("/models/m.gguf", 2, Precision.Fp16);
        _slurm.AddJob("6", "CANCELLED", "node1", $"{prefix}.acme.web.r-3", comment);
        _slurm.AddJob("7", "RUNNING", "node1", $"{prefix}.acme.web.r-1", comment);
        _slurm.AddJob("8", "RUNNING", "node1", "kiln-0therinst.acme.web.r-1", comment);
        _slurm.AddJob("9", "PENDING", "", $"{prefix}.acme.web.r-2", comment);
        _slurm.AddJob("10", "RUNNING", "node1", $"{prefix}.acme.web.r-5", comment);
        _slurm.AddJob("11", "RUNNING", "node1", $"{prefix}.acme.web.r-5", comment);
        _slurm.AddJob("12", "RUNNING", "node1", "somebody-elses-job");
        Directory.CreateDirectory(Path.Combine(_slurm.RunDir, "acme", "web"));
        await File.WriteAllTextAsync(Path.Combine(_slurm.RunDir, "acme", "web", "r-1.endpoint.7"), "0.0.0.0:5001");

        using var runtime = await SlurmRuntime.ConnectAsync(_slurm.Options, Command);
        Assert.Equal(prefix, runtime.JobPrefix);
        await runtime.RefreshAsync();

        // By the recorded job ID, by name alone, or past a handle of another runtime: the same job, with the spec its comment keeps.
        var r1 = new ReplicaRef("acme", "web", "r-1");
        var adopted = runtime.Adopt(r1, RuntimeHandle.SlurmJob("7"));
        Assert.Equal(new ReplicaHandle(r1, RuntimeHandle.SlurmJob("7"), "10.0.0.7", 5001, 2, "/models/m.gguf", Precision.Fp16, runtime.LogPath(r1), Adopted: true), adopted);
        Assert.Equal(adopted, runtime.Adopt(r1, null));
        Assert.Equal(adopted, runtime.Adopt(r1, RuntimeHandle.Process(4242)));

        var r2 = runtime.Adopt(new ReplicaRef("acme", "web", "r-2"), RuntimeHandle.SlurmJob("9"));
        Assert.Equal(ReplicaStatus.Waiting("queued by Slurm"), runtime.GetStatus(r2!));
        Assert.Null(runtime.Adopt(new ReplicaRef("acme", "web", "r-3"), RuntimeHandle.SlurmJob("6")));
        Assert.Null(runtime.Adopt(new ReplicaRef("acme", "web", "r-4"), null));

        // Two live jobs of one replica (a submission whose answer was lost): the recorded one stays, whichever
        // squeue lists first, and the other is cancelled.
        var r5 = runtime.Adopt(new ReplicaRef("acme", "web", "r-5"), RuntimeHandle.SlurmJob("11"));
        Assert.Equal("11", r5?.Handle.SlurmJobId);
        await Wait.UntilAsync(() => _slurm.StateOf("10") == "CANCELLED", TimeSpan.FromSeconds(30), "the duplicate job cancelled");
        Assert.Equal(["r-1", "r-2", "r-5"], runtime.List().Select(h => h.ReplicaId).Order());

        // Nothing but the duplicate is cancelled: not the other installation's job, nor a stranger's.
        await runtime.RefreshAsync();
        Assert.Equal(["10"], _slurm.Cancels());
        Assert.Equal(("RUNNING", "RUNNING", "RUNNING"), (_slurm.StateOf("7"), _slurm.StateOf("8"), _slurm.StateOf("12")));
    }

    [Fact]
    public async Task Capacity_comes_from_the_cluster_and_a_cluster_that_cannot_serve_is_refused_with_the_reason()
    {
        using (var runtime = await SlurmRuntime.ConnectAsync(_slurm.Options, Command))
        {
            Assert.Equal(SlotFacts.Cluster(4, 8, "GPU"), runtime.Slots(AcceleratorType.NvidiaH100_80GB, 8));
            Assert.Equal(SlotFacts.Cluster(8, 2, "CPU"), runtime.Slots(AcceleratorType.Cpu, 2));
            Assert.Contains("Slurm partition gpu: 1 node(s), 4 GPU(s), 8 CPU(s)", runtime.Describe());
        }

        using var empty = new FakeSlurm(nodes: "");
        Assert.Equal("partition gpu has no nodes",
            (await Assert.ThrowsAsync<SlurmException>(() => SlurmRuntime.ConnectAsync(empty.Options, Command))).Message);
        var nowhere = _slurm.Options with { BinDir = Path.Combine(_slurm.RunDir, "no-such-folder") };
        Assert.Equal($"sinfo not found in {nowhere.BinDir} (--slurm-bin-dir)",
            (await Assert.ThrowsAsync<SlurmException>(() => SlurmRuntime.ConnectAsync(nowhere, Command))).Message);
    }

    private static ReplicaLaunch Launch(string replica, int worldSize = 1, AcceleratorType type = AcceleratorType.NvidiaA100_80GB, string? token = null) =>
        new(new ReplicaRef("acme", "web", replica), "/models/m.gguf", "accounts/acme/models/m", worldSize, Precision.Fp32,
            token is null ? null : new ModelDownload("http://cp:8420/v1/accounts/acme/models/m:download", new string('a', 64), "/var/tmp/kiln-model-cache", null, token))
        {
            AcceleratorType = type,
        };
}
