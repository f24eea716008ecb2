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

    [StoreFact]
    public async Task Adjacent_windows_add_up_to_the_enclosing_one_before_and_after_the_roll_up()
    {
        await _t.SeedDeploymentAsync();
        // Requests spread over three minutes at uneven instants, several in one second.
        var t0 = new DateTimeOffset(2026, 11, 21, 9, 30, 0, TimeSpan.Zero);
        var offsets = new[] { 0.1, 0.9, 1.2, 14.5, 29.999, 30.0, 30.4, 44.0, 59.9, 61.0, 75.3, 119.5, 150.0 };
        await _t.Store.RecordRequestUsageAsync(
            [.. offsets.Select((o, i) => new RequestUsage("acme", i % 2 == 0 ? "k1" : "k2", "d1", "accounts/acme/models/llama", t0.AddSeconds(o), 1, i + 1, 10 * (i + 1)))],
            []);

        async Task<(long Requests, long Prompt, long Completion)> Sum(DateTimeOffset? start, DateTimeOffset end)
        {
            var rows = await _t.Store.ListRequestUsageAsync("acme", new UsageQuery(start, end));
            return (rows.Sum(r => r.Requests), rows.Sum(r => r.PromptTokens), rows.Sum(r => r.CompletionTokens));
        }

        async Task AssertAdditive(double[] splits)
        {
            var (start, end) = (t0.AddSeconds(0.5), t0.AddSeconds(170));
            var whole = await Sum(start, end);
            foreach (var split in splits.Select(s => t0.AddSeconds(s)))
            {
                var left = await Sum(start, split);
                var right = await Sum(split, end);
                Assert.Equal(whole, (left.Requests + right.Requests, left.Prompt + right.Prompt, left.Completion + right.Completion));
            }
            // Thirty-second windows, edge to edge, add up to the three minutes.
            var windows = Enumerable.Range(0, 6).Select(i => Sum(t0.AddSeconds(30 * i), t0.AddSeconds(30 * (i + 1)))).ToList();
            Assert.Equal((long)offsets.Length, (await Task.WhenAll(windows)).Sum(w => w.Requests));
        }

        // Per second: the two halves of the first minute hold exactly their own requests.
        Assert.Equal(5L, (await Sum(t0, t0.AddSeconds(30))).Requests);
        Assert.Equal(4L, (await Sum(t0.AddSeconds(30), t0.AddSeconds(60))).Requests);
        Assert.Equal(13L, (await Sum(null, t0.AddSeconds(180))).Requests);
        await AssertAdditive([0.5, 1, 1.5, 14.2, 30, 30.25, 59.95, 60, 61.5, 119.5, 170]);

        // A day later the first two minutes are kept per minute: totals stay, windows still add up,
        // and a minute split by an edge counts in the window that holds its start.
        Assert.Equal(0, await _t.Store.RollUpRequestUsageAsync(t0));
        Assert.Equal(12, await _t.Store.RollUpRequestUsageAsync(t0.AddMinutes(2)));
        Assert.Equal((13L, 91L, 910L), await Sum(null, t0.AddSeconds(180)));
        Assert.Equal(9L, (await Sum(t0, t0.AddSeconds(30))).Requests);
        Assert.Equal(0L, (await Sum(t0.AddSeconds(30), t0.AddSeconds(60))).Requests);
        await AssertAdditive([0.5, 1, 30, 59.95, 60, 61.5, 119.5, 120, 135.25, 170]);
        var perKey = await _t.Store.ListRequestUsageAsync("acme", new UsageQuery());
        Assert.Equal([("k1", 7L, t0), ("k2", 6L, t0)], perKey.Select(u => (u.ApiKeyId, u.Requests, u.Time)));
    }
}

public sealed class SqliteUsageTests() : UsageTests(StoreBackend.Sqlite);

public sealed class PostgresUsageTests() : UsageTests(StoreBackend.Postgres);
