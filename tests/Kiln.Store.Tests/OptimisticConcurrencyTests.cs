using Kiln.Core.Deployments;
using Kiln.Core.Errors;

namespace Kiln.Store.Tests;

public abstract class OptimisticConcurrencyTests(StoreBackend backend) : IDisposable
{
    private const int Rounds = 150;

    private readonly TempStore _t = new(backend);

    public void Dispose() => _t.Dispose();

    [StoreFact]
    public async Task Every_change_moves_the_version_and_no_op_writes_do_not()
    {
        var d = await _t.SeedDeploymentAsync(desired: 1, max: 3);
        Assert.Equal(1, d.Version);
        var v = new List<long> { d.Version };
        v.Add((await _t.Store.UpdateDeploymentSpecAsync("acme", "d1", d.Spec with { DisplayName = "x" }, d.Generation)).Version);
        v.Add((await _t.Store.SetDesiredReplicaCountAsync("acme", "d1", 2)).Version);
        v.Add((await _t.Store.SetDesiredReplicaCountAsync("acme", "d1", 2)).Version);
        var ready = new DeploymentStatusUpdate(DeploymentState.Ready, DeploymentStatus.Ok, 2);
        v.Add((await _t.Store.UpdateDeploymentStatusAsync("acme", "d1", ready)).Version);
        v.Add((await _t.Store.UpdateDeploymentStatusAsync("acme", "d1", ready)).Version);
        await _t.Store.RecordDeploymentRequestAsync("acme", "d1", _t.Clock.UtcNow);
        await _t.Store.RecordRequestUsageAsync([], [new LastRequest("acme", "d1", _t.Clock.UtcNow.AddSeconds(1))]);
        v.Add((await _t.Store.GetDeploymentAsync("acme", "d1"))!.Version);
        v.Add((await _t.Store.RequestDeploymentDeletionAsync("acme", "d1")).Version);
        v.Add((await _t.Store.RequestDeploymentDeletionAsync("acme", "d1")).Version);
        Assert.Equal([1L, 2, 3, 3, 4, 4, 4, 5, 5], v);
        Assert.Equal(5, (await _t.Reopen().GetDeploymentAsync("acme", "d1"))!.Version);
    }

    [StoreFact]
    public async Task Stale_version_is_aborted_and_changes_nothing()
    {
        var d = await _t.SeedDeploymentAsync(desired: 1, max: 3);
        var moved = await _t.Store.SetDesiredReplicaCountAsync("acme", "d1", 2, d.Version);
        Assert.Equal(d.Version + 1, moved.Version);

        var desired = await Assert.ThrowsAsync<KilnError>(() => _t.Store.SetDesiredReplicaCountAsync("acme", "d1", 3, d.Version));
        Assert.Equal(StatusCode.Aborted, desired.Code);
        Assert.Equal(409, desired.HttpStatus);
        Assert.Contains($"version is {moved.Version}, expected {d.Version}", desired.Message);

        var status = await Assert.ThrowsAsync<KilnError>(() => _t.Store.UpdateDeploymentStatusAsync("acme", "d1",
            new DeploymentStatusUpdate(DeploymentState.Ready, new DeploymentStatus(StatusCode.Ok, "stale"), 1), d.Version));
        Assert.Equal(StatusCode.Aborted, status.Code);

        Assert.Equal(moved, await _t.Store.GetDeploymentAsync("acme", "d1"));
        Assert.Equal(moved, await _t.Reopen().GetDeploymentAsync("acme", "d1"));

        // The current version goes through.
        var ready = await _t.Store.UpdateDeploymentStatusAsync("acme", "d1",
            new DeploymentStatusUpdate(DeploymentState.Ready, DeploymentStatus.Ok, 1), moved.Version);
        Assert.Equal((DeploymentState.Ready, moved.Version + 1), (ready.State, ready.Version));
        Assert.Equal(2, ready.DesiredReplicaCount);
    }

    [StoreFact]
    public async Task Spec_and_desired_writers_racing_on_two_connections_lose_nothing()
    {
        await _t.SeedDeploymentAsync(desired: 1, max: 100);
        using var second = _t.OpenAnother();
        var api = Task.Run(() => PatchDisplayNameAsync(_t.Store));
        var autoscaler = Task.Run(async () =>
        {
            for (var i = 1; i <= Rounds; i++)
            {
                var desired = i % 100 + 1;
                await second.SetDesiredReplicaCountAsync("acme", "d1", desired);
                // Nobody else writes this field, so what was written must still be there.
                Assert.Equal(desired, (await second.GetDeploymentAsync("acme", "d1"))!.DesiredReplicaCount);
            }
        });
        await Task.WhenAll(api, autoscaler);

        var d = (await _t.Store.GetDeploymentAsync("acme", "d1"))!;
        Assert.Equal(($"v{Rounds}", Rounds % 100 + 1), (d.Spec.DisplayName, d.DesiredReplicaCount));
        Assert.Equal(1 + Rounds, d.Generation);
        Assert.Equal(1 + 2 * Rounds, d.Version);
    }

    [StoreFact]
    public async Task Writers_that_insist_on_the_version_retry_and_lose_nothing()
    {
        await _t.SeedDeploymentAsync(desired: 1, max: 100);
        using var second = _t.OpenAnother();
        var aborted = 0;
        async Task WriteAsync(IKilnStore store, Func<DeploymentRecord, Task> write)
        {
            while (true)
            {
                var current = (await store.GetDeploymentAsync("acme", "d1"))!;
                try
                {
                    await write(current);
                    return;
                }
                catch (KilnError e) when (e.Code == StatusCode.Aborted)
                {
                    Interlocked.Increment(ref aborted);
                }
            }
        }
        var autoscaler = Task.Run(async () =>
        {
            for (var i = 1; i <= Rounds; i++)
            {
                var desired = i % 100 + 1;
                await WriteAsync(second, d => second.SetDesiredReplicaCountAsync("acme", "d1", desired, d.Version));
            }
        });
        var reconciler = Task.Run(async () =>
        {
            for (var i = 1; i <= Rounds; i++)
            {
                var message = $"pass {i}";
                await WriteAsync(_t.Store, d => _t.Store.UpdateDeploymentStatusAsync("acme", "d1",
                    new DeploymentStatusUpdate(DeploymentState.Ready, new DeploymentStatus(StatusCode.Ok, message), d.Generation), d.Version));
            }
        });
        await Task.WhenAll(autoscaler, reconciler);

        var final = (await _t.Store.GetDeploymentAsync("acme", "d1"))!;
        Assert.Equal((Rounds % 100 + 1, $"pass {Rounds}"), (final.DesiredReplicaCount, final.Status.Message));
        // Each of the 2 x Rounds writes landed exactly once; aborted attempts changed nothing.
        Assert.Equal(1 + 2 * Rounds, final.Version);
    }

    /// <summary>What the API's PATCH does: read, merge, write against the generation read, retry when it moved.</summary>
    private static async Task PatchDisplayNameAsync(IKilnStore store)
    {
        for (var i = 1; i <= Rounds; i++)
        {
            while (true)
            {
                var current = (await store.GetDeploymentAsync("acme", "d1"))!;
                try
                {
                    await store.UpdateDeploymentSpecAsync("acme", "d1", current.Spec with { DisplayName = $"v{i}" }, current.Generation);
                    break;
                }
                catch (KilnError e) when (e.Code == StatusCode.Aborted)
                {
                }
            }
            Assert.Equal($"v{i}", (await store.GetDeploymentAsync("acme", "d1"))!.Spec.DisplayName);
        }
    }
}

public sealed class SqliteOptimisticConcurrencyTests() : OptimisticConcurrencyTests(StoreBackend.Sqlite);

public sealed class PostgresOptimisticConcurrencyTests() : OptimisticConcurrencyTests(StoreBackend.Postgres);
