using Kiln.Core.Deployments;
using Kiln.Core.Errors;

namespace Kiln.Store.Tests;

public abstract class ReplicaAndEventTests(StoreBackend backend) : IDisposable
{
    private readonly TempStore _t = new(backend);

    public void Dispose() => _t.Dispose();

    private ReplicaRecord Replica(string id, ReplicaPhase phase = ReplicaPhase.Initializing, string deployment = "d1") => _t.Replica(id, phase, deployment);

    [StoreFact]
    public async Task Upsert_inserts_then_replaces()
    {
        await _t.SeedDeploymentAsync();
        var r = await _t.Store.UpsertReplicaAsync(Replica("r1"));
        Assert.Equal(Replica("r1") with { UpdateTime = _t.Clock.UtcNow }, r);

        _t.Clock.Advance(TimeSpan.FromSeconds(20));
        var ready = await _t.Store.UpsertReplicaAsync(r with { Phase = ReplicaPhase.Ready, ReadyTime = _t.Clock.UtcNow, FailureCount = 1, LastError = "slow" });
        Assert.Equal((ReplicaPhase.Ready, _t.Clock.UtcNow, 1, "slow"), (ready.Phase, ready.ReadyTime!.Value, ready.FailureCount, ready.LastError));
        Assert.Equal([ready], await _t.Store.ListReplicasAsync("acme", "d1"));
    }

    [StoreFact]
    public async Task A_cluster_job_handle_and_its_wait_reason_round_trip_and_clear()
    {
        await _t.SeedDeploymentAsync();
        var queued = await _t.Store.UpsertReplicaAsync(Replica("r1", ReplicaPhase.Pending) with
        {
            RuntimeHandle = "slurm:1234_5",
            Host = null,
            Port = null,
            WaitReason = "queued by Slurm (Resources)",
        });
        Assert.Equal(("slurm:1234_5", "queued by Slurm (Resources)"), (queued.RuntimeHandle, queued.WaitReason));
        Assert.Equal([queued], await _t.Store.ListReplicasAsync("acme", "d1"));

        var running = await _t.Store.UpsertReplicaAsync(queued with { Phase = ReplicaPhase.Initializing, WaitReason = null, Host = "10.0.0.7", Port = 41234 });
        Assert.Null(running.WaitReason);
        Assert.Equal([running], await _t.Store.ListAllReplicasAsync());
    }

    [StoreFact]
    public async Task A_replicas_devices_round_trip_and_clear()
    {
        await _t.SeedDeploymentAsync();
        Assert.Empty((await _t.Store.UpsertReplicaAsync(Replica("r0"))).Devices);
        var gpu = await _t.Store.UpsertReplicaAsync(Replica("r1") with { Devices = ["GPU-8f2a", "GPU-91c0"] });
        Assert.Equal(["GPU-8f2a", "GPU-91c0"], gpu.Devices);
        Assert.Equal(["GPU-8f2a", "GPU-91c0"], (await _t.Store.ListReplicasAsync("acme", "d1")).Single(r => r.ReplicaId == "r1").Devices);
        var cpu = await _t.Store.UpsertReplicaAsync(gpu with { Devices = [] });
        Assert.Empty(cpu.Devices);
        Assert.All(await _t.Store.ListAllReplicasAsync(), r => Assert.Empty(r.Devices));
    }

    [StoreFact]
    public async Task Replicas_need_their_deployment_and_are_scoped()
    {
        Assert.Equal(StatusCode.NotFound, (await Assert.ThrowsAsync<KilnError>(() => _t.Store.UpsertReplicaAsync(Replica("r1")))).Code);
        await _t.SeedDeploymentAsync("acme", "d1");
        await _t.SeedDeploymentAsync("acme", "d2");
        await _t.Store.UpsertReplicaAsync(Replica("r2"));
        await _t.Store.UpsertReplicaAsync(Replica("r1"));
        await _t.Store.UpsertReplicaAsync(Replica("r1", deployment: "d2"));
        Assert.Equal(["r1", "r2"], (await _t.Store.ListReplicasAsync("acme", "d1")).Select(r => r.ReplicaId));
        Assert.Equal(3, (await _t.Store.ListAllReplicasAsync()).Count);
        Assert.True(await _t.Store.DeleteReplicaAsync("acme", "d1", "r1"));
        Assert.False(await _t.Store.DeleteReplicaAsync("acme", "d1", "r1"));
        Assert.Single(await _t.Store.ListReplicasAsync("acme", "d2"));
    }

    [StoreFact]
    public async Task Events_are_appended_and_listed_newest_n_oldest_first()
    {
        await _t.SeedDeploymentAsync();
        for (var i = 0; i < 30; i++)
        {
            _t.Clock.Advance(TimeSpan.FromSeconds(1));
            await _t.Store.AppendEventAsync("acme", "d1", "Tick", $"event {i}");
        }
        var last5 = await _t.Store.ListRecentEventsAsync("acme", "d1", 5);
        Assert.Equal(Enumerable.Range(25, 5).Select(i => $"event {i}"), last5.Select(e => e.Message));
        Assert.True(last5.Zip(last5.Skip(1)).All(p => p.First.Sequence < p.Second.Sequence));
        Assert.Equal(_t.Clock.UtcNow, last5[^1].Time);
        Assert.Equal(20, (await _t.Store.ListRecentEventsAsync("acme", "d1")).Count);
        await Assert.ThrowsAsync<KilnError>(() => _t.Store.ListRecentEventsAsync("acme", "d1", 0));
    }

    [StoreFact]
    public async Task Events_need_their_deployment_and_stay_per_deployment()
    {
        Assert.Equal(StatusCode.NotFound, (await Assert.ThrowsAsync<KilnError>(() => _t.Store.AppendEventAsync("acme", "d1", "X", "y"))).Code);
        await _t.SeedDeploymentAsync("acme", "d1");
        await _t.SeedDeploymentAsync("other", "d1");
        await _t.Store.AppendEventAsync("acme", "d1", "Created", "hello");
        await _t.Store.AppendEventAsync("other", "d1", "Created", "other's");
        Assert.Equal(["hello"], (await _t.Store.ListRecentEventsAsync("acme", "d1")).Select(e => e.Message));
    }

    [StoreFact]
    public async Task A_batch_of_events_lands_in_order_in_one_go_and_leaves_out_deployments_that_are_gone()
    {
        await _t.SeedDeploymentAsync("acme", "d1");
        await _t.SeedDeploymentAsync("acme", "d2");
        _t.Clock.Advance(TimeSpan.FromSeconds(3));
        // More than one full statement on PostgreSQL (256 rows each) and a remainder of several sizes.
        var batch = Enumerable.Range(0, 601).Select(i => new NewDeploymentEvent("acme", (i % 3) switch { 0 => "d1", 1 => "d2", _ => "gone" }, "Autoscaler", $"hold {i}")).ToList();

        Assert.Equal(401, await _t.Store.AppendEventsAsync(batch));

        var d1 = await _t.Store.ListRecentEventsAsync("acme", "d1", 1000);
        Assert.Equal(Enumerable.Range(0, 601).Where(i => i % 3 == 0).Select(i => $"hold {i}"), d1.Select(e => e.Message));
        Assert.True(d1.Zip(d1.Skip(1)).All(p => p.First.Sequence < p.Second.Sequence));
        Assert.All(d1, e => Assert.Equal((_t.Clock.UtcNow, "Autoscaler"), (e.Time, e.Type)));
        Assert.Equal(200, (await _t.Store.ListRecentEventsAsync("acme", "d2", 1000)).Count);
        Assert.Equal(0, await _t.Store.AppendEventsAsync([]));
    }

    [StoreFact]
    public async Task A_batch_with_an_event_without_a_type_is_refused_whole()
    {
        await _t.SeedDeploymentAsync();
        var refused = await Assert.ThrowsAsync<KilnError>(() => _t.Store.AppendEventsAsync([new("acme", "d1", "Autoscaler", "fine"), new("acme", "d1", " ", "no type")]));
        Assert.Equal(StatusCode.InvalidArgument, refused.Code);
        Assert.Empty(await _t.Store.ListRecentEventsAsync("acme", "d1"));
    }

    [StoreFact]
    public async Task Replicas_and_their_events_are_written_together_or_not_at_all()
    {
        await _t.SeedDeploymentAsync();
        var first = await _t.Store.UpsertReplicaAsync(Replica("r1"));
        var stored = await _t.Store.WriteReplicasAsync(
            [Replica("r2", ReplicaPhase.Pending), first with { Phase = ReplicaPhase.Ready, ReadyTime = _t.Clock.UtcNow }],
            [new("acme", "d1", "ReplicaReady", "r1 ready"), new("acme", "gone", "ReplicaReady", "left out"), new("acme", "d1", "Scaled", "2")]);
        Assert.Equal(["r2", "r1"], stored.Select(r => r.ReplicaId));
        Assert.Equal(stored.OrderBy(r => r.ReplicaId), await _t.Store.ListReplicasAsync("acme", "d1"));
        Assert.Equal([ReplicaPhase.Ready, ReplicaPhase.Pending], (await _t.Store.ListReplicasAsync("acme", "d1")).Select(r => r.Phase));
        Assert.Equal(["r1 ready", "2"], (await _t.Store.ListRecentEventsAsync("acme", "d1")).Select(e => e.Message));

        // A replica of a deployment that is gone refuses the whole batch: nothing of it is written.
        var refused = await Assert.ThrowsAsync<KilnError>(() => _t.Store.WriteReplicasAsync(
            [Replica("r3"), Replica("r4", deployment: "gone")], [new("acme", "d1", "ReplicaStarted", "r3")]));
        Assert.Equal(StatusCode.NotFound, refused.Code);
        Assert.Equal(["r1", "r2"], (await _t.Store.ListReplicasAsync("acme", "d1")).Select(r => r.ReplicaId));
        Assert.Equal(2, (await _t.Store.ListRecentEventsAsync("acme", "d1")).Count);
        Assert.Empty(await _t.Store.WriteReplicasAsync([], []));
    }

    [StoreFact]
    public async Task Purge_removes_replicas_and_events()
    {
        await _t.SeedDeploymentAsync();
        await _t.Store.UpsertReplicaAsync(Replica("r1"));
        await _t.Store.AppendEventAsync("acme", "d1", "Created", "x");
        Assert.True(await _t.Store.PurgeDeploymentAsync("acme", "d1"));
        Assert.Empty(await _t.Store.ListAllReplicasAsync());
        await _t.SeedDeploymentAsync();
        Assert.Empty(await _t.Store.ListRecentEventsAsync("acme", "d1"));
    }
}

public sealed class SqliteReplicaAndEventTests() : ReplicaAndEventTests(StoreBackend.Sqlite);

public sealed class PostgresReplicaAndEventTests() : ReplicaAndEventTests(StoreBackend.Postgres);
