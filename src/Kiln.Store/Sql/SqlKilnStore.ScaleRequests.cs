using Kiln.Core.Errors;

namespace Kiln.Store.Sql;

public abstract partial class SqlKilnStore
{
    /// <inheritdoc />
    public Task RequestScaleAsync(string account, string deploymentId, int replicaCount, CancellationToken ct = default) => Write(ct, (db, now) =>
    {
        var current = RequireMutableDeployment(db, account, deploymentId);
        RequireDesiredInRange(replicaCount, current.Spec);
        return db.Execute("""
            INSERT INTO scale_requests (account, deployment, replica_count, request_time) VALUES (@account, @deployment, @count, @now)
            ON CONFLICT (account, deployment) DO UPDATE SET replica_count = excluded.replica_count, request_time = excluded.request_time
            """,
            ("account", account), ("deployment", deploymentId), ("count", replicaCount), ("now", Columns.Time(now)));
    });

    /// <inheritdoc />
    public async Task<IReadOnlyList<ScaleRequest>> TakeScaleRequestsAsync(CancellationToken ct = default)
    {
        // Polled with the wake requests and nearly always empty: a read needs no write lock.
        if (await Read(ct, db => db.Scalar("SELECT COUNT(*) FROM scale_requests")) == 0)
        {
            return [];
        }
        return await Write<IReadOnlyList<ScaleRequest>>(ct, (db, _) =>
        {
            var taken = db.Query("SELECT account, deployment, replica_count, request_time FROM scale_requests ORDER BY account, deployment",
                r => new ScaleRequest(r.GetString(0), r.GetString(1), r.GetInt32(2), Columns.Time(r.GetInt64(3))));
            if (taken.Count > 0)
            {
                db.Execute("DELETE FROM scale_requests");
            }
            return taken;
        });
    }
}
