using Kiln.Core.Errors;
using Kiln.Store.Sqlite;

namespace Kiln.Store.Tests;

public sealed class ConcurrencyTests : IDisposable
{
    private readonly TempStore _t = new();

    public void Dispose() => _t.Dispose();

    [Fact]
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

    [Fact]
    public async Task Two_connections_to_one_file_share_the_write_lock()
    {
        await _t.SeedDeploymentAsync();
        using var second = SqliteKilnStore.Open(_t.Path, _t.Clock);
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

    [Fact]
    public async Task A_write_lock_held_elsewhere_makes_writes_unavailable_but_not_reads()
    {
        await _t.SeedDeploymentAsync();
        using var impatient = SqliteKilnStore.Open(_t.Path, _t.Clock, TimeSpan.FromMilliseconds(100));
        using (var other = SqliteDatabaseAccess.Open(_t.Path))
        using (other.Begin(write: true))
        {
            other.Execute("UPDATE accounts SET display_name = 'held' WHERE id = 'acme'");
            var e = await Assert.ThrowsAsync<KilnError>(() => impatient.CreateAccountAsync(new NewAccount("late")));
            Assert.Equal(StatusCode.Unavailable, e.Code);
            // WAL: readers see the last commit while another connection writes.
            Assert.Equal("acme", (await impatient.GetAccountAsync("acme"))!.DisplayName);
        }
        Assert.Equal("acme", (await impatient.GetAccountAsync("acme"))!.DisplayName);
        await impatient.CreateAccountAsync(new NewAccount("late"));
        Assert.NotNull(await _t.Store.GetAccountAsync("late"));
    }
}
