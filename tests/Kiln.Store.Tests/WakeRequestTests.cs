using Kiln.Core.Errors;

namespace Kiln.Store.Tests;

public abstract class WakeRequestTests(StoreBackend backend) : IDisposable
{
    private readonly TempStore _t = new(backend);

    public void Dispose() => _t.Dispose();

    [StoreFact]
    public async Task Requests_coalesce_per_deployment_and_a_take_empties_them()
    {
        await _t.SeedDeploymentAsync(id: "d1", desired: 0);
        await _t.SeedDeploymentAsync(id: "d2", desired: 0);
        await _t.Store.RequestWakeAsync("acme", "d1");
        _t.Clock.Advance(TimeSpan.FromSeconds(1));
        await _t.Store.RequestWakeAsync("acme", "d1");
        await _t.Store.RequestWakeAsync("acme", "d2");

        var taken = await _t.Store.TakeWakeRequestsAsync();
        Assert.Equal(
            [new WakeRequest("acme", "d1", _t.Clock.UtcNow), new WakeRequest("acme", "d2", _t.Clock.UtcNow)],
            taken);
        Assert.Empty(await _t.Store.TakeWakeRequestsAsync());
        // Asking wakes nothing by itself: the autoscaler alone writes the desired count.
        Assert.Equal(0, (await _t.Store.GetDeploymentAsync("acme", "d1"))!.DesiredReplicaCount);
    }

    [StoreFact]
    public async Task A_missing_deployment_is_not_found_and_a_purged_one_takes_its_request_with_it()
    {
        await _t.SeedDeploymentAsync(desired: 0);
        Assert.Equal(StatusCode.NotFound, (await Assert.ThrowsAsync<KilnError>(() => _t.Store.RequestWakeAsync("acme", "nope"))).Code);
        await _t.Store.RequestWakeAsync("acme", "d1");
        Assert.True(await _t.Store.PurgeDeploymentAsync("acme", "d1"));
        Assert.Empty(await _t.Store.TakeWakeRequestsAsync());
    }
}

public sealed class SqliteWakeRequestTests() : WakeRequestTests(StoreBackend.Sqlite);

public sealed class PostgresWakeRequestTests() : WakeRequestTests(StoreBackend.Postgres);
