using Kiln.Core.Errors;
using Kiln.Store.Sqlite;

namespace Kiln.Store.Tests;

public sealed class LeaseTests : IDisposable
{
    private const string Name = "controllers";
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(6);
    private readonly TempStore _t = new();

    public void Dispose() => _t.Dispose();

    [Fact]
    public async Task A_free_lease_is_acquired_at_once_with_epoch_one()
    {
        Assert.Null(await _t.Store.GetLeaseAsync(Name));
        var lease = await _t.Store.TryAcquireOrRenewLeaseAsync(Name, "a", Ttl);
        Assert.True(lease.IsHeldBy("a", _t.Clock.UtcNow));
        Assert.Equal((1L, _t.Clock.UtcNow + Ttl, _t.Clock.UtcNow), (lease.Epoch, lease.ExpireTime, lease.AcquireTime));
        Assert.Equal(lease, await _t.Store.GetLeaseAsync(Name));
    }

    [Fact]
    public async Task Renewing_moves_the_expiry_and_keeps_the_epoch()
    {
        var first = await _t.Store.TryAcquireOrRenewLeaseAsync(Name, "a", Ttl);
        _t.Clock.Advance(TimeSpan.FromSeconds(5));
        var renewed = await _t.Store.TryAcquireOrRenewLeaseAsync(Name, "a", Ttl);
        Assert.Equal((first.Epoch, first.AcquireTime), (renewed.Epoch, renewed.AcquireTime));
        Assert.Equal((_t.Clock.UtcNow, _t.Clock.UtcNow + Ttl), (renewed.RenewTime, renewed.ExpireTime));
    }

    [Fact]
    public async Task Another_holder_is_refused_until_the_lease_expires_and_then_takes_it_with_a_new_epoch()
    {
        await _t.Store.TryAcquireOrRenewLeaseAsync(Name, "a", Ttl);
        _t.Clock.Advance(Ttl - TimeSpan.FromMilliseconds(1));
        var refused = await _t.Store.TryAcquireOrRenewLeaseAsync(Name, "b", Ttl);
        Assert.Equal(("a", 1L), (refused.Holder, refused.Epoch));
        Assert.False(refused.IsHeldBy("b", _t.Clock.UtcNow));

        _t.Clock.Advance(TimeSpan.FromMilliseconds(1));
        var taken = await _t.Store.TryAcquireOrRenewLeaseAsync(Name, "b", Ttl);
        Assert.Equal(("b", 2L, _t.Clock.UtcNow), (taken.Holder, taken.Epoch, taken.AcquireTime));

        // The old holder's late renewal does not win it back.
        var late = await _t.Store.TryAcquireOrRenewLeaseAsync(Name, "a", Ttl);
        Assert.Equal(("b", 2L), (late.Holder, late.Epoch));
    }

    [Fact]
    public async Task A_holder_whose_lease_lapsed_gets_a_new_epoch_even_when_nobody_took_it()
    {
        await _t.Store.TryAcquireOrRenewLeaseAsync(Name, "a", Ttl);
        _t.Clock.Advance(Ttl);
        var again = await _t.Store.TryAcquireOrRenewLeaseAsync(Name, "a", Ttl);
        Assert.Equal(("a", 2L), (again.Holder, again.Epoch));
    }

    [Fact]
    public async Task Releasing_frees_the_lease_at_once_for_the_next_holder_and_only_the_holder_may()
    {
        await _t.Store.TryAcquireOrRenewLeaseAsync(Name, "a", Ttl);
        Assert.False(await _t.Store.ReleaseLeaseAsync(Name, "b"));
        Assert.True(await _t.Store.ReleaseLeaseAsync(Name, "a"));
        Assert.False(await _t.Store.ReleaseLeaseAsync(Name, "a"));
        var taken = await _t.Store.TryAcquireOrRenewLeaseAsync(Name, "b", Ttl);
        Assert.Equal(("b", 2L), (taken.Holder, taken.Epoch));
    }

    [Fact]
    public async Task Leases_of_different_names_are_independent()
    {
        await _t.Store.TryAcquireOrRenewLeaseAsync(Name, "a", Ttl);
        var other = await _t.Store.TryAcquireOrRenewLeaseAsync("other", "b", Ttl);
        Assert.Equal(("b", 1L), (other.Holder, other.Epoch));
    }

    [Fact]
    public async Task A_bad_ttl_or_holder_is_refused()
    {
        Assert.Equal(StatusCode.InvalidArgument, (await Assert.ThrowsAsync<KilnError>(() => _t.Store.TryAcquireOrRenewLeaseAsync(Name, "a", TimeSpan.Zero))).Code);
        Assert.Equal(StatusCode.InvalidArgument, (await Assert.ThrowsAsync<KilnError>(() => _t.Store.TryAcquireOrRenewLeaseAsync(Name, "", Ttl))).Code);
        Assert.Null(await _t.Store.GetLeaseAsync(Name));
    }

    [Fact]
    public async Task Holders_racing_through_separate_connections_elect_exactly_one_per_epoch()
    {
        using var second = SqliteKilnStore.Open(_t.Path, _t.Clock);
        var stores = new IKilnStore[] { _t.Store, second };
        for (var round = 1; round <= 5; round++)
        {
            var attempts = await Task.WhenAll(Enumerable.Range(0, 8).Select(h =>
                Task.Run(() => stores[h % 2].TryAcquireOrRenewLeaseAsync(Name, $"h{h}", Ttl))));
            var winners = attempts.Where(l => l.IsHeldBy(l.Holder, _t.Clock.UtcNow)).Select(l => l.Holder).Distinct().ToList();
            Assert.Single(winners);
            Assert.All(attempts, l => Assert.Equal((winners[0], (long)round), (l.Holder, l.Epoch)));
            _t.Clock.Advance(Ttl);
        }
    }
}
