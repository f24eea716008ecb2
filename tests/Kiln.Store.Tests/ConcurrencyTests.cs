using Kiln.Core.Errors;

namespace Kiln.Store.Tests;

public abstract class ConcurrencyTests(StoreBackend backend) : IDisposable
{
    private readonly TempStore _t = new(backend);

    public void Dispose() => _t.Dispose();

    [StoreFact]
    public async Task Concurrent_writers_in_one_process_do_not_corrupt()
    {
        await _t.SeedDeploymentAsync();
        var writers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 50; i++)
            {
                await _t.Store.AppendEventAsync("acme", "d1", "W", $"{w}:{i}");
                await _t.Store.RecordDeploymentRequestAsync("acme", "d1", _t.Clock.UtcNow.AddSeconds(i));
                await _t.Store.GetDeploymentAsync("acme", "d1");
            }
        }));
        await Task.WhenAll(writers);
        var events = await _t.Store.ListRecentEventsAsync("acme", "d1", 1000);
        Assert.Equal(400, events.Count);
        Assert.Equal(400, events.Select(e => e.Message).Distinct().Count());
        Assert.Equal(400, events.Select(e => e.Sequence).Distinct().Count());
        Assert.Equal(_t.Clock.UtcNow.AddSeconds(49), (await _t.Store.GetDeploymentAsync("acme", "d1"))!.LastRequestTime);
    }

    [StoreFact]
    public async Task Two_stores_on_one_database_serialise_their_writes()
    {
        await _t.SeedDeploymentAsync();
        using var second = _t.OpenAnother();
        var stores = new IKilnStore[] { _t.Store, second };
        var writers = Enumerable.Range(0, 6).Select(w => Task.Run(async () =>
        {
            var store = stores[w % 2];
            for (var i = 0; i < 40; i++)
            {
                await store.CreateAccountAsync(new NewAccount($"w{w}-a{i}"));
                await store.AppendEventAsync("acme", "d1", "W", $"{w}:{i}");
            }
        }));
        await Task.WhenAll(writers);
        Assert.Equal(241, (await second.ListAccountsAsync(new PageRequest(200))).TotalSize);
        Assert.Equal(240, (await _t.Store.ListRecentEventsAsync("acme", "d1", 1000)).Count);
    }
}

public sealed class SqliteConcurrencyTests() : ConcurrencyTests(StoreBackend.Sqlite);

public sealed class PostgresConcurrencyTests() : ConcurrencyTests(StoreBackend.Postgres);
