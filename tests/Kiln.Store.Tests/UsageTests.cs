using Kiln.Core.Deployments;

namespace Kiln.Store.Tests;

public abstract class UsageTests(StoreBackend backend) : IDisposable
{
    private readonly TempStore _t = new(backend);

    public void Dispose() => _t.Dispose();

    private ReplicaRecord Replica(string id, ReplicaPhase phase, DateTimeOffset? ready = null) => new()
    {
        Account = "acme",
        DeploymentId = "d1",
        ReplicaId = id,
        Phase = phase,
        Generation = 1,
        StartTime = _t.Clock.UtcNow,
        ReadyTime = ready,
    };

    [StoreFact]
    public async Task A_replica_is_billed_from_ready_until_its_record_goes()
    {
        await _t.SeedDeploymentAsync();
        await _t.Store.UpsertReplicaAsync(Replica("r1", ReplicaPhase.Initializing));
        _t.Clock.Advance(TimeSpan.FromSeconds(5));
        var readyAt = _t.Clock.UtcNow;
        var ready = await _t.Store.UpsertReplicaAsync(Replica("r1", ReplicaPhase.Ready, readyAt));
        // Rewriting the same READY (adoption, generation bump) keeps one open interval.
        await _t.Store.UpsertReplicaAsync(ready with { Generation = 2 });
        var open = Assert.Single(await _t.Store.ListReplicaUsageAsync("acme", new UsageQuery()));
        Assert.Equal((readyAt, (DateTimeOffset?)null, AcceleratorType.Cpu, 1), (open.ReadyTime, open.StopTime, open.AcceleratorType, open.AcceleratorCount));

        _t.Clock.Advance(TimeSpan.FromSeconds(30));
        await _t.Store.UpsertReplicaAsync(ready with { Phase = ReplicaPhase.Stopping });
        _t.Clock.Advance(TimeSpan.FromSeconds(2));
        await _t.Store.DeleteReplicaAsync("acme", "d1", "r1");
        var closed = Assert.Single(await _t.Store.ListReplicaUsageAsync("acme", new UsageQuery()));
        Assert.Equal(readyAt + TimeSpan.FromSeconds(32), closed.StopTime);

        // Windows select overlapping intervals only.
        Assert.Empty(await _t.Store.ListReplicaUsageAsync("acme", new UsageQuery(Start: _t.Clock.UtcNow)));
        Assert.Empty(await _t.Store.ListReplicaUsageAsync("acme", new UsageQuery(End: readyAt)));
        Assert.Single(await _t.Store.ListReplicaUsageAsync("acme", new UsageQuery(readyAt.AddSeconds(10), readyAt.AddSeconds(11), "d1")));
        Assert.Empty(await _t.Store.ListReplicaUsageAsync("acme", new UsageQuery(DeploymentId: "other")));
    }

    [StoreFact]
    public async Task Failing_closes_the_interval_and_a_purge_closes_open_ones()
    {
        await _t.SeedDeploymentAsync();
        var r = await _t.Store.UpsertReplicaAsync(Replica("r1", ReplicaPhase.Ready, _t.Clock.UtcNow));
        _t.Clock.Advance(TimeSpan.FromSeconds(3));
        await _t.Store.UpsertReplicaAsync(r with { Phase = ReplicaPhase.Failed });
        _t.Clock.Advance(TimeSpan.FromSeconds(3));
        await _t.Store.UpsertReplicaAsync(r with { Phase = ReplicaPhase.Ready, ReadyTime = _t.Clock.UtcNow });
        _t.Clock.Advance(TimeSpan.FromSeconds(4));
        await _t.Store.PurgeDeploymentAsync("acme", "d1");
        var intervals = await _t.Store.ListReplicaUsageAsync("acme", new UsageQuery());
        Assert.Equal([3.0, 4.0], intervals.Select(i => (i.StopTime!.Value - i.ReadyTime).TotalSeconds));
    }

    [StoreFact]
    public async Task Request_usage_adds_up_per_minute_and_moves_the_last_request_time()
    {
        await _t.SeedDeploymentAsync();
        var t0 = _t.Clock.UtcNow;
        await _t.Store.RecordRequestUsageAsync(
            [new("acme", "k1", "d1", "accounts/acme/models/llama", t0.AddSeconds(1), 2, 10, 20),
             new("acme", "k2", "d1", "accounts/acme/models/llama", t0.AddSeconds(2), 1, 5, 6)],
            [new LastRequest("acme", "d1", t0.AddSeconds(2)), new LastRequest("acme", "gone", t0)]);
        await _t.Store.RecordRequestUsageAsync(
            [new("acme", "k1", "d1", "accounts/acme/models/llama", t0.AddMinutes(2), 1, 1, 1)],
            [new LastRequest("acme", "d1", t0.AddSeconds(1))]);

        var all = await _t.Store.ListRequestUsageAsync("acme", new UsageQuery());
        Assert.Equal([("k1", 3L, 11L, 21L), ("k2", 1L, 5L, 6L)], all.Select(u => (u.ApiKeyId, u.Requests, u.PromptTokens, u.CompletionTokens)));
        var later = await _t.Store.ListRequestUsageAsync("acme", new UsageQuery(Start: t0.AddMinutes(1)));
        Assert.Equal([("k1", 1L)], later.Select(u => (u.ApiKeyId, u.Requests)));
        Assert.Empty(await _t.Store.ListRequestUsageAsync("other", new UsageQuery()));
        Assert.Equal(t0.AddSeconds(2), (await _t.Store.GetDeploymentAsync("acme", "d1"))!.LastRequestTime);
    }
}

public sealed class SqliteUsageTests() : UsageTests(StoreBackend.Sqlite);

public sealed class PostgresUsageTests() : UsageTests(StoreBackend.Postgres);
