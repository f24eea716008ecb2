using Kiln.Core.History;

namespace Kiln.Store.Tests;

public abstract class HistoryTests(StoreBackend backend) : IDisposable
{
    private readonly TempStore _t = new(backend);

    public void Dispose() => _t.Dispose();

    private static HistoryPoint Point(DateTimeOffset time, int replicas, double? p99 = null) => new()
    {
        Time = time,
        Replicas = replicas,
        DesiredReplicas = replicas + 1,
        Load = 0.625,
        LoadTarget = "concurrent_requests",
        HeldRequests = 2,
        RequestsPerSecond = 1.5,
        TokensPerSecond = 42.25,
        P50LatencySeconds = p99 / 2,
        P99LatencySeconds = p99,
    };

    [StoreFact]
    public async Task Samples_read_back_per_deployment_in_time_order_within_the_range()
    {
        var t0 = _t.Clock.UtcNow;
        await _t.Store.AppendDeploymentHistoryAsync(
        [
            new("acme", "d1", Point(t0.AddSeconds(10), 2, p99: 0.5)),
            new("acme", "d1", Point(t0, 1)),
            new("acme", "d2", Point(t0.AddSeconds(5), 7)),
            new("other", "d1", Point(t0.AddSeconds(5), 9)),
        ], pruneBefore: t0.AddDays(-1));

        var d1 = await _t.Store.ListDeploymentHistoryAsync("acme", "d1", t0, t0.AddMinutes(1));
        Assert.Equal([Point(t0, 1), Point(t0.AddSeconds(10), 2, p99: 0.5)], d1);
        Assert.Equal([1], (await _t.Store.ListDeploymentHistoryAsync("acme", "d1", t0, t0.AddSeconds(10))).Select(p => p.Replicas));
        Assert.Equal([7], (await _t.Store.ListDeploymentHistoryAsync("acme", "d2", t0, t0.AddMinutes(1))).Select(p => p.Replicas));
        Assert.Empty(await _t.Store.ListDeploymentHistoryAsync("acme", "d3", t0, t0.AddMinutes(1)));
    }

    [StoreFact]
    public async Task A_second_sample_at_the_same_instant_is_dropped_and_old_samples_are_pruned()
    {
        var t0 = _t.Clock.UtcNow;
        await _t.Store.AppendDeploymentHistoryAsync([new("acme", "d1", Point(t0, 1)), new("acme", "d1", Point(t0.AddHours(2), 3))], t0.AddDays(-1));
        await _t.Store.AppendDeploymentHistoryAsync([new("acme", "d1", Point(t0.AddHours(2), 5))], pruneBefore: t0.AddHours(1));
        var left = await _t.Store.ListDeploymentHistoryAsync("acme", "d1", t0.AddDays(-1), t0.AddDays(1));
        Assert.Equal([3], left.Select(p => p.Replicas));
    }

    [StoreFact]
    public async Task A_pass_worth_of_samples_is_written_whole_and_a_repeat_within_the_batch_is_dropped()
    {
        var t0 = _t.Clock.UtcNow;
        // Several full statements on PostgreSQL (256 rows each) and a remainder of several sizes.
        var samples = Enumerable.Range(0, 1000).Select(i => new DeploymentHistoryRecord("acme", $"d{i:D4}", Point(t0, i % 7, p99: i % 2 == 0 ? i / 1000.0 : null))).ToList();
        samples.Insert(500, new DeploymentHistoryRecord("acme", "d0900", Point(t0, 6)));
        await _t.Store.AppendDeploymentHistoryAsync(samples, t0.AddDays(-1));

        foreach (var i in new[] { 0, 1, 255, 256, 511, 512, 767, 768, 899, 901, 999 })
        {
            Assert.Equal([Point(t0, i % 7, p99: i % 2 == 0 ? i / 1000.0 : null)],
                await _t.Store.ListDeploymentHistoryAsync("acme", $"d{i:D4}", t0, t0.AddSeconds(1)));
        }
        // d0900's second sample at t0 is the one written first (at position 500); the later one is dropped.
        Assert.Equal([6], (await _t.Store.ListDeploymentHistoryAsync("acme", "d0900", t0, t0.AddSeconds(1))).Select(p => p.Replicas));
    }
}

public sealed class SqliteHistoryTests() : HistoryTests(StoreBackend.Sqlite);

public sealed class PostgresHistoryTests() : HistoryTests(StoreBackend.Postgres);
