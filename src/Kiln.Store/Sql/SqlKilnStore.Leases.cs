using Kiln.Core.Errors;
namespace Kiln.Store.Sql;

public abstract partial class SqlKilnStore
{
    private const string LeaseColumns = "name, holder, epoch, acquire_time, renew_time, expire_time";

    /// <inheritdoc />
    public Task<LeaseRecord> TryAcquireOrRenewLeaseAsync(string name, string holder, TimeSpan ttl, CancellationToken ct = default)
    {
        if (string.IsNullOrEmpty(name) || string.IsNullOrEmpty(holder))
        {
            return Task.FromException<LeaseRecord>(KilnError.InvalidArgument("a lease needs a name and a holder"));
        }
        if (ttl <= TimeSpan.Zero)
        {
            return Task.FromException<LeaseRecord>(KilnError.InvalidArgument($"a lease's TTL must be above zero, not {ttl}"));
        }
        return Write(ct, (db, now) =>
        {
            var at = Columns.Time(now);
            var expire = Columns.Time(now + ttl);
            var current = FindLease(db, name);
            if (current is null)
            {
                db.Execute($"INSERT INTO leases ({LeaseColumns}) VALUES (@name, @holder, 1, @now, @now, @expire)",
                    ("name", name), ("holder", holder), ("now", at), ("expire", expire));
            }
            else if (current.IsHeldBy(holder, now))
            {
                db.Execute("UPDATE leases SET renew_time = @now, expire_time = @expire WHERE name = @name",
                    ("name", name), ("now", at), ("expire", expire));
            }
            else if (now >= current.ExpireTime)
            {
                db.Execute("""
                    UPDATE leases SET holder = @holder, epoch = epoch + 1, acquire_time = @now, renew_time = @now, expire_time = @expire
                    WHERE name = @name
                    """,
                    ("name", name), ("holder", holder), ("now", at), ("expire", expire));
            }
            return FindLease(db, name)!;
        });
    }

    /// <inheritdoc />
    public Task<LeaseRecord?> GetLeaseAsync(string name, CancellationToken ct = default) => Read(ct, db => FindLease(db, name));

    /// <inheritdoc />
    public Task<bool> ReleaseLeaseAsync(string name, string holder, CancellationToken ct = default) => Write(ct, (db, now) =>
        db.Execute("UPDATE leases SET expire_time = @now WHERE name = @name AND holder = @holder AND expire_time > @now",
            ("name", name), ("holder", holder), ("now", Columns.Time(now))) > 0);

    /// <inheritdoc />
    public Task RequestWakeAsync(string account, string deploymentId, CancellationToken ct = default) => Write(ct, (db, now) =>
    {
        if (db.Scalar("SELECT COUNT(*) FROM deployments WHERE account = @account AND id = @id", ("account", account), ("id", deploymentId)) == 0)
        {
            throw KilnError.NotFound("deployment", $"accounts/{account}/deployments/{deploymentId}");
        }
        return db.Execute($"""
            INSERT INTO wake_requests (account, deployment, request_time) VALUES (@account, @deployment, @now)
            ON CONFLICT (account, deployment) DO UPDATE SET request_time = {Dialect.Greatest}(wake_requests.request_time, excluded.request_time)
            """,
            ("account", account), ("deployment", deploymentId), ("now", Columns.Time(now)));
    });

    /// <inheritdoc />
    public async Task<IReadOnlyList<WakeRequest>> TakeWakeRequestsAsync(CancellationToken ct = default)
    {
        // Polled twice a second and nearly always empty: a read needs no write lock, which other
        // writers (other processes sharing a SQLite file) would wait for.
        if (await Read(ct, db => db.Scalar("SELECT COUNT(*) FROM wake_requests")) == 0)
        {
            return [];
        }
        return await Write<IReadOnlyList<WakeRequest>>(ct, TakeWakeRequests);
    }

    private static IReadOnlyList<WakeRequest> TakeWakeRequests(SqlSession db, DateTimeOffset now)
    {
        var taken = db.Query("SELECT account, deployment, request_time FROM wake_requests ORDER BY account, deployment",
            r => new WakeRequest(r.GetString(0), r.GetString(1), Columns.Time(r.GetInt64(2))));
        if (taken.Count > 0)
        {
            db.Execute("DELETE FROM wake_requests");
        }
        return taken;
    }

    private static void CheckFence(SqlSession db, LeaseFence fence)
    {
        var epoch = db.QuerySingle("SELECT epoch FROM leases WHERE name = @name", r => (long?)r.GetInt64(0), ("name", fence.Lease));
        if (epoch != fence.Epoch)
        {
            throw fence.Refusal(epoch);
        }
    }

    private static LeaseRecord? FindLease(SqlSession db, string name) =>
        db.QuerySingle($"SELECT {LeaseColumns} FROM leases WHERE name = @name",
            r => new LeaseRecord(r.GetString(0), r.GetString(1), r.GetInt64(2), Columns.Time(r.GetInt64(3)), Columns.Time(r.GetInt64(4)), Columns.Time(r.GetInt64(5))),
            ("name", name));
}
