using Kiln.Core.Deployments;
using Kiln.Core.Errors;

namespace Kiln.Store.Tests;

public abstract class LeaseTests(StoreBackend backend) : IDisposable
{
    private const string Name = "controllers";
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(6);
    private readonly TempStore _t = new(backend);

    public void Dispose() => _t.Dispose();

    [StoreFact]
    public async Task A_free_lease_is_acquired_at_once_with_epoch_one()
    {
        Assert.Null(await _t.Store.GetLeaseAsync(Name));
        var lease = await _t.Store.TryAcquireOrRenewLeaseAsync(Name, "a", Ttl);
        Assert.True(lease.IsHeldBy("a", _t.Clock.UtcNow));
        Assert.Equal((1L, _t.Clock.UtcNow + Ttl, _t.Clock.UtcNow), (lease.Epoch, lease.ExpireTime, lease.AcquireTime));
        Assert.Equal(lease, await _t.Store.GetLeaseAsync(Name));
    }

    [StoreFact]
    public async Task Renewing_moves_the_expiry_and_keeps_the_epoch()
    {
        var first = await _t.Store.TryAcquireOrRenewLeaseAsync(Name, "a", Ttl);
        _t.Clock.Advance(TimeSpan.FromSeconds(5));
        var renewed = await _t.Store.TryAcquireOrRenewLeaseAsync(Name, "a", Ttl);
        Assert.Equal((first.Epoch, first.AcquireTime), (renewed.Epoch, renewed.AcquireTime));
        Assert.Equal((_t.Clock.UtcNow, _t.Clock.UtcNow + Ttl), (renewed.RenewTime, renewed.ExpireTime));
    }

    [StoreFact]
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

    [StoreFact]
    public async Task A_holder_whose_lease_lapsed_gets_a_new_epoch_even_when_nobody_took_it()
    {
        await _t.Store.TryAcquireOrRenewLeaseAsync(Name, "a", Ttl);
        _t.Clock.Advance(Ttl);
        var again = await _t.Store.TryAcquireOrRenewLeaseAsync(Name, "a", Ttl);
        Assert.Equal(("a", 2L), (again.Holder, again.Epoch));
    }

    [StoreFact]
    public async Task Releasing_frees_the_lease_at_once_for_the_next_holder_and_only_the_holder_may()
    {
        await _t.Store.TryAcquireOrRenewLeaseAsync(Name, "a", Ttl);
        Assert.False(await _t.Store.ReleaseLeaseAsync(Name, "b"));
        Assert.True(await _t.Store.ReleaseLeaseAsync(Name, "a"));
        Assert.False(await _t.Store.ReleaseLeaseAsync(Name, "a"));
        var taken = await _t.Store.TryAcquireOrRenewLeaseAsync(Name, "b", Ttl);
        Assert.Equal(("b", 2L), (taken.Holder, taken.Epoch));
    }

    [StoreFact]
    public async Task Leases_of_different_names_are_independent()
    {
        await _t.Store.TryAcquireOrRenewLeaseAsync(Name, "a", Ttl);
        var other = await _t.Store.TryAcquireOrRenewLeaseAsync("other", "b", Ttl);
        Assert.Equal(("b", 1L), (other.Holder, other.Epoch));
    }

    [StoreFact]
    public async Task A_bad_ttl_or_holder_is_refused()
    {
        Assert.Equal(StatusCode.InvalidArgument, (await Assert.ThrowsAsync<KilnError>(() => _t.Store.TryAcquireOrRenewLeaseAsync(Name, "a", TimeSpan.Zero))).Code);
        Assert.Equal(StatusCode.InvalidArgument, (await Assert.ThrowsAsync<KilnError>(() => _t.Store.TryAcquireOrRenewLeaseAsync(Name, "", Ttl))).Code);
        Assert.Null(await _t.Store.GetLeaseAsync(Name));
    }

    [StoreFact]
    public async Task Holders_racing_through_separate_connections_elect_exactly_one_per_epoch()
    {
        using var second = _t.OpenAnother();
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

    [StoreFact]
    public async Task Writes_under_the_current_epoch_land_and_a_deposed_leaders_late_writes_are_refused_changing_nothing()
    {
        var d = await _t.SeedDeploymentAsync(desired: 1, max: 3);
        var a = await _t.Store.TryAcquireOrRenewLeaseAsync(Name, "a", Ttl);
        await AsLeaderAsync(a.Epoch, () => _t.Store.SetDesiredReplicaCountAsync("acme", "d1", 2, d.Version));

        // "a" stalls past its lease; "b" takes over with the next epoch.
        _t.Clock.Advance(Ttl);
        var b = await _t.Store.TryAcquireOrRenewLeaseAsync(Name, "b", Ttl);
        Assert.Equal(a.Epoch + 1, b.Epoch);
        var before = await _t.Store.GetDeploymentAsync("acme", "d1");
        var events = await _t.Store.ListRecentEventsAsync("acme", "d1");

        // Every kind of controller write from "a"'s term is refused, and nothing of it lands.
        var late = new Func<Task>[]
        {
            () => _t.Store.SetDesiredReplicaCountAsync("acme", "d1", 3),
            () => _t.Store.UpdateDeploymentStatusAsync("acme", "d1", new DeploymentStatusUpdate(DeploymentState.Failed, new DeploymentStatus(StatusCode.FailedPrecondition, "stale"), 1)),
            () => _t.Store.AppendEventAsync("acme", "d1", "Autoscaled", "stale"),
            () => _t.Store.AppendEventsAsync([new("acme", "d1", "Autoscaler", "stale")]),
            () => _t.Store.UpsertReplicaAsync(new ReplicaRecord
            {
                Account = "acme", DeploymentId = "d1", ReplicaId = "r-1", Phase = ReplicaPhase.Initializing, Generation = 1, StartTime = _t.Clock.UtcNow,
            }),
            () => _t.Store.RequestDeploymentDeletionAsync("acme", "d1"),
        };
        foreach (var write in late)
        {
            var refused = await Assert.ThrowsAsync<KilnError>(() => AsLeaderAsync(a.Epoch, write));
            Assert.Equal(StatusCode.FailedPrecondition, refused.Code);
            Assert.Equal($"fenced: the lease {Name} is at epoch {b.Epoch}, and this write was made under epoch {a.Epoch} (another term leads now)", refused.Message);
        }
        Assert.Equal(before, await _t.Store.GetDeploymentAsync("acme", "d1"));
        Assert.Equal(events, await _t.Store.ListRecentEventsAsync("acme", "d1"));
        Assert.Empty(await _t.Store.ListReplicasAsync("acme", "d1"));

        // The new term's writes land, and so do writes outside any term (the API's).
        await AsLeaderAsync(b.Epoch, () => _t.Store.SetDesiredReplicaCountAsync("acme", "d1", 3));
        await _t.Store.AppendEventAsync("acme", "d1", "Note", "from the API");
        Assert.Equal(3, (await _t.Store.GetDeploymentAsync("acme", "d1"))!.DesiredReplicaCount);
    }

    [StoreFact]
    public async Task A_leader_that_got_its_lapsed_lease_back_fences_its_own_earlier_term_and_a_lease_never_taken_fences_everything()
    {
        await _t.SeedDeploymentAsync();
        var first = await _t.Store.TryAcquireOrRenewLeaseAsync(Name, "a", Ttl);
        _t.Clock.Advance(Ttl);
        var again = await _t.Store.TryAcquireOrRenewLeaseAsync(Name, "a", Ttl);
        Assert.Equal(StatusCode.FailedPrecondition, (await Assert.ThrowsAsync<KilnError>(() =>
            AsLeaderAsync(first.Epoch, () => _t.Store.AppendEventAsync("acme", "d1", "Autoscaled", "stale")))).Code);
        await AsLeaderAsync(again.Epoch, () => _t.Store.AppendEventAsync("acme", "d1", "Autoscaled", "current"));

        var never = await Assert.ThrowsAsync<KilnError>(() => AsLeaderAsync(1, () => _t.Store.AppendEventAsync("acme", "d1", "Reaper", "x"), lease: "other"));
        Assert.Equal("fenced: the lease other is not held, and this write was made under epoch 1", never.Message);
        Assert.Equal(["current"], (await _t.Store.ListRecentEventsAsync("acme", "d1")).Where(e => e.Type == "Autoscaled").Select(e => e.Message));
    }

    [StoreFact]
    public async Task A_fence_stays_with_the_flow_that_entered_it()
    {
        await _t.SeedDeploymentAsync();
        await _t.Store.TryAcquireOrRenewLeaseAsync(Name, "a", Ttl);
        // A stale fence entered inside an async method binds the tasks it starts there, not its caller.
        var started = await StaleFlowAsync();
        Assert.Null(LeaseFence.Current);
        await _t.Store.AppendEventAsync("acme", "d1", "Note", "unfenced");
        Assert.Equal(StatusCode.FailedPrecondition, (await Assert.ThrowsAsync<KilnError>(() => started)).Code);

        async Task<Task> StaleFlowAsync()
        {
            LeaseFence.Enter(new LeaseFence(Name, 99));
            await Task.Yield();
            return Task.Run(() => _t.Store.AppendEventAsync("acme", "d1", "Note", "stale"));
        }
    }

    /// <summary>Runs <paramref name="write"/> as a leader's controller at <paramref name="epoch"/> does: under the term's fence.</summary>
    private static async Task AsLeaderAsync(long epoch, Func<Task> write, string lease = Name)
    {
        LeaseFence.Enter(new LeaseFence(lease, epoch));
        await write();
    }
}

public sealed class SqliteLeaseTests() : LeaseTests(StoreBackend.Sqlite);

public sealed class PostgresLeaseTests() : LeaseTests(StoreBackend.Postgres);
