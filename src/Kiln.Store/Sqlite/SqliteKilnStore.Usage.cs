using Kiln.Core.Deployments;

namespace Kiln.Store.Sqlite;

public sealed partial class SqliteKilnStore
{
    private const long MinuteMs = 60_000;

    /// <inheritdoc />
    public Task RecordRequestUsageAsync(IReadOnlyList<RequestUsage> usage, IReadOnlyList<LastRequest> lastRequests, CancellationToken ct = default) =>
        Write(ct, (db, _) =>
        {
            foreach (var u in usage)
            {
                var minute = Columns.Time(u.Time) / MinuteMs * MinuteMs;
                db.Execute("""
                    INSERT INTO request_usage (account, api_key, deployment, model, minute, requests, prompt_tokens, completion_tokens)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (account, minute, deployment, api_key, model) DO UPDATE SET
                        requests = requests + excluded.requests,
                        prompt_tokens = prompt_tokens + excluded.prompt_tokens,
                        completion_tokens = completion_tokens + excluded.completion_tokens
                    """,
                    u.Account, u.ApiKeyId, u.DeploymentId, u.Model, minute, u.Requests, u.PromptTokens, u.CompletionTokens);
            }
            // A deployment purged meanwhile simply matches no row.
            foreach (var r in lastRequests)
            {
                db.Execute(
                    "UPDATE deployments SET last_request_time = MAX(COALESCE(last_request_time, 0), ?) WHERE account = ? AND id = ?",
                    Columns.Time(r.Time), r.Account, r.DeploymentId);
            }
            return true;
        });

    /// <inheritdoc />
    public Task<IReadOnlyList<RequestUsage>> ListRequestUsageAsync(string account, UsageQuery query, CancellationToken ct = default) =>
        Read<IReadOnlyList<RequestUsage>>(ct, db =>
        {
            var (where, args) = Window(account, query, "minute", "minute");
            return db.Query($"""
                SELECT api_key, deployment, model, MIN(minute), SUM(requests), SUM(prompt_tokens), SUM(completion_tokens)
                FROM request_usage WHERE {where}
                GROUP BY deployment, api_key, model ORDER BY deployment, api_key, model
                """,
                r => new RequestUsage(account, r.GetString(0), r.GetString(1), r.GetString(2), Columns.Time(r.GetInt64(3)),
                    r.GetInt64(4), r.GetInt64(5), r.GetInt64(6)),
                args);
        });

    /// <inheritdoc />
    public Task<IReadOnlyList<ReplicaUsageRecord>> ListReplicaUsageAsync(string account, UsageQuery query, CancellationToken ct = default) =>
        Read<IReadOnlyList<ReplicaUsageRecord>>(ct, db =>
        {
            // An interval counts when it overlaps the window: it began before the end and had not stopped by the start.
            var conditions = new List<string> { "account = ?" };
            var args = new List<object?> { account };
            if (query.DeploymentId is { } d)
            {
                conditions.Add("deployment = ?");
                args.Add(d);
            }
            if (query.End is { } end)
            {
                conditions.Add("ready_time < ?");
                args.Add(Columns.Time(end));
            }
            if (query.Start is { } start)
            {
                conditions.Add("(stop_time IS NULL OR stop_time > ?)");
                args.Add(Columns.Time(start));
            }
            return db.Query($"""
                SELECT account, deployment, replica, accelerator_type, accelerator_count, ready_time, stop_time
                FROM replica_usage WHERE {string.Join(" AND ", conditions)} ORDER BY deployment, ready_time, replica
                """,
                r => new ReplicaUsageRecord(r.GetString(0), r.GetString(1), r.GetString(2),
                    Columns.Enum<AcceleratorType>(r.GetString(3), AcceleratorTypes.TryParse), r.GetInt32(4),
                    Columns.Time(r.GetInt64(5)), Columns.Time(r.GetNullableInt64(6))),
                [.. args]);
        });

    // Bills a replica from the READY it was written with until any other phase (STOPPING still
    // serves its drain, so it still counts) or its removal.
    private static void TrackReplicaUsage(SqliteDatabase db, ReplicaRecord replica, DateTimeOffset now)
    {
        var billable = replica.Phase is ReplicaPhase.Ready or ReplicaPhase.Stopping && replica.ReadyTime is not null;
        if (!billable)
        {
            CloseReplicaUsage(db, replica.Account, replica.DeploymentId, replica.ReplicaId, now);
            return;
        }
        var ready = Columns.Time(replica.ReadyTime!.Value);
        // A new ready time ends the previous interval first (a replica that became ready again).
        db.Execute("""
            UPDATE replica_usage SET stop_time = MAX(ready_time, ?)
            WHERE account = ? AND deployment = ? AND replica = ? AND stop_time IS NULL AND ready_time <> ?
            """, Columns.Time(now), replica.Account, replica.DeploymentId, replica.ReplicaId, ready);
        var spec = db.QuerySingle("SELECT accelerator_type, accelerator_count FROM deployments WHERE account = ? AND id = ?",
            r => (Type: r.GetString(0), Count: r.GetInt32(1)), replica.Account, replica.DeploymentId);
        db.Execute("""
            INSERT INTO replica_usage (account, deployment, replica, accelerator_type, accelerator_count, ready_time, stop_time)
            VALUES (?, ?, ?, ?, ?, ?, NULL) ON CONFLICT DO NOTHING
            """, replica.Account, replica.DeploymentId, replica.ReplicaId, spec.Type, spec.Count, ready);
    }

    private static void CloseReplicaUsage(SqliteDatabase db, string account, string deploymentId, string? replicaId, DateTimeOffset now) =>
        db.Execute($"""
            UPDATE replica_usage SET stop_time = MAX(ready_time, ?)
            WHERE account = ? AND deployment = ?{(replicaId is null ? "" : " AND replica = ?")} AND stop_time IS NULL
            """, replicaId is null ? [Columns.Time(now), account, deploymentId] : [Columns.Time(now), account, deploymentId, replicaId]);

    private static (string Where, object?[] Args) Window(string account, UsageQuery query, string startColumn, string endColumn)
    {
        var conditions = new List<string> { "account = ?" };
        var args = new List<object?> { account };
        if (query.DeploymentId is { } d)
        {
            conditions.Add("deployment = ?");
            args.Add(d);
        }
        if (query.Start is { } start)
        {
            conditions.Add($"{startColumn} >= ?");
            args.Add(Columns.Time(start) / MinuteMs * MinuteMs);
        }
        if (query.End is { } end)
        {
            conditions.Add($"{endColumn} < ?");
            args.Add(Columns.Time(end));
        }
        return (string.Join(" AND ", conditions), [.. args]);
    }
}
