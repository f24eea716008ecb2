using Kiln.Core.Errors;
using Kiln.Store.Sqlite;

namespace Kiln.Store.Tests;

/// <summary>SQLite's file lock: what another process holding it means for the store.</summary>
public sealed class SqliteWriteLockTests : IDisposable
{
    private readonly TempStore _t = new();

    public void Dispose() => _t.Dispose();

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
