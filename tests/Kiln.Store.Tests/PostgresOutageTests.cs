using Kiln.Core.Errors;

namespace Kiln.Store.Tests;

/// <summary>Runs alone: it stops the test run's PostgreSQL server, which every other PostgreSQL test uses.</summary>
[CollectionDefinition(nameof(PostgresOutage), DisableParallelization = true)]
public sealed class PostgresOutage;

/// <summary>A database that goes away while the store runs, and comes back.</summary>
[Collection(nameof(PostgresOutage))]
public sealed class PostgresOutageTests
{
    [PostgresFact(stopsServer: true)]
    public async Task Calls_fail_unavailable_while_the_database_is_down_and_work_again_when_it_returns()
    {
        using var t = new TempStore(StoreBackend.Postgres);
        await t.SeedDeploymentAsync();
        await PostgresServer.OutageAsync(async () =>
        {
            var read = await Assert.ThrowsAsync<KilnError>(() => t.Store.GetDeploymentAsync("acme", "d1"));
            Assert.Equal(StatusCode.Unavailable, read.Code);
            Assert.Contains("unavailable", read.Message);
            var write = await Assert.ThrowsAsync<KilnError>(() => t.Store.AppendEventAsync("acme", "d1", "W", "lost"));
            Assert.Equal(StatusCode.Unavailable, write.Code);
        });
        // Pooled connections died with the server; the store reconnects without being reopened.
        await t.Store.AppendEventAsync("acme", "d1", "W", "after");
        Assert.Equal("after", Assert.Single(await t.Store.ListRecentEventsAsync("acme", "d1")).Message);
        Assert.Equal(1, (await t.Store.GetDeploymentAsync("acme", "d1"))!.Version);
    }
}
