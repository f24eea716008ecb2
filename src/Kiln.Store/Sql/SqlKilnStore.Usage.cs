using Kiln.Core.Billing;
using Kiln.Core.Deployments;

namespace Kiln.Store.Sql;

public abstract partial class SqlKilnStore
{
    private const long MinuteMs = 60_000;

    /// <inheritdoc />
    public Task RecordRequestUsageAsync(IReadOnlyList<RequestUsage> usage, IReadOnlyList<LastRequest> lastRequests, CancellationToken ct = default) =>
        Write(ct, (db, _) =>
        {
            foreach (var u in usage)
            {
                var second = Columns.Time(UsageBuckets.SecondOf(u.Time));
                db.Execute("""
                    INSERT INTO request_usage_seconds (account, api_key, deployment, model, second_start, requests, prompt_tokens, completion_tokens)
                    VALUES (@account, @key, @deployment, @model, @second, @requests, @prompt, @completion)
                    ON CONFLICT (account, second_start, deployment, api_key, model) DO UPDATE SET
                        requests = request_usage_seconds.requests + excluded.requests,
                        prompt_tokens = request_usage_seconds.prompt_tokens + excluded.prompt_tokens,
                        completion_tokens = request_usage_seconds.completion_tokens + excluded.completion_tokens
                    """,
                    ("account", u.Account), ("key", u.ApiKeyId), ("deployment", u.DeploymentId), ("model", u.Model), ("second", second),
                    ("requests", u.Requests), ("prompt", u.PromptTokens), ("completion", u.CompletionTokens));
            }
            // A deployment purged meanwhile simply matches no row.
            foreach (var r in lastRequests)
            {
                RecordLastRequest(db, r.Account, r.DeploymentId, r.Time);
            }
            return true;
        });

    /// <inheritdoc />
    public Task<IReadOnlyList<RequestUsage>> ListRequestUsageAsync(string account, UsageQuery query, CancellationToken ct = default) =>
        Read<IReadOnlyList<RequestUsage>>(ct, db =>
        {
            // Both resolutions, each bucket counted by its start (UsageBuckets), so windows add up.
            var (seconds, args) = Window(account, query, "second_start");
            var (minutes, _) = Window(account, query, "minute");
            return db.Query($"""
                SELECT api_key, deployment, model, MIN(bucket), SUM(requests), SUM(prompt_tokens), SUM(completion_tokens)
                FROM (
                    SELECT api_key, deployment, model, minute AS bucket, requests, prompt_tokens, completion_tokens
                    FROM request_usage WHERE {minutes}
                    UNION ALL
                    SELECT api_key, deployment, model, second_start AS bucket, requests, prompt_tokens, completion_tokens
                    FROM request_usage_seconds WHERE {seconds}
                ) AS buckets
                GROUP BY deployment, api_key, model ORDER BY deployment, api_key, model
                """,
                r => new RequestUsage(account, r.GetString(0), r.GetString(1), r.GetString(2), Columns.Time(r.GetInt64(3)),
                    r.GetInt64(4), r.GetInt64(5), r.GetInt64(6)),
                args);
        });

    /// <inheritdoc />
    public Task<int> RollUpRequestUsageAsync(DateTimeOffset before, CancellationToken ct = default) =>
        Write(ct, (db, _) =>
        {
            // The write transaction is serialised with the gateway's, so nothing lands between the two statements.
            var cutoff = ("cutoff", (object?)Columns.Time(before));
            db.Execute($"""
                INSERT INTO request_usage (account, api_key, deployment, model, minute, requests, prompt_tokens, completion_tokens)
                SELECT * FROM (
                    SELECT account, api_key, deployment, model, second_start - (second_start % {MinuteMs}) AS minute,
                        SUM(requests) AS requests, SUM(prompt_tokens) AS prompt_tokens, SUM(completion_tokens) AS completion_tokens
                    FROM request_usage_seconds WHERE second_start < @cutoff
                    GROUP BY account, api_key, deployment, model, second_start - (second_start % {MinuteMs})
                ) AS rolled WHERE true
                ON CONFLICT (account, minute, deployment, api_key, model) DO UPDATE SET
                    requests = request_usage.requests + excluded.requests,
                    prompt_tokens = request_usage.prompt_tokens + excluded.prompt_tokens,
                    completion_tokens = request_usage.completion_tokens + excluded.completion_tokens
                """, cutoff);
            return db.Execute("DELETE FROM request_usage_seconds WHERE second_start < @cutoff", cutoff);
        });

    /// <inheritdoc />
    public Task<IReadOnlyList<ReplicaUsageRecord>> ListReplicaUsageAsync(string account, UsageQuery query, CancellationToken ct = default) =>
        Read<IReadOnlyList<ReplicaUsageRecord>>(ct, db =>
        {
            // An interval counts when it overlaps the window: it began before the end and had not stopped by the start.
            var conditions = new List<string> { "account = @account" };
            var args = new List<(string, object?)> { ("account", account) };
            if (query.DeploymentId is { } d)
            {
                conditions.Add("deployment = @deployment");
                args.Add(("deployment", d));
            }
            if (query.End is { } end)
            {
                conditions.Add("ready_time < @end");
                args.Add(("end", Columns.Time(end)));
            }
            if (query.Start is { } start)
            {
                conditions.Add("(stop_time IS NULL OR stop_time > @start)");
                args.Add(("start", Columns.Time(start)));
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
    private void TrackReplicaUsage(SqlSession db, ReplicaRecord replica, DateTimeOffset now)
    {
        var billable = replica.Phase is ReplicaPhase.Ready or ReplicaPhase.Stopping && replica.ReadyTime is not null;
        if (!billable)
        {
            CloseReplicaUsage(db, replica.Account, replica.DeploymentId, replica.ReplicaId, now);
            return;
        }
        var ready = Columns.Time(replica.ReadyTime!.Value);
        // A new ready time ends the previous interval first (a replica that became ready again).
        db.Execute($"""
            UPDATE replica_usage SET stop_time = {Dialect.Greatest}(ready_time, @now)
            WHERE account = @account AND deployment = @deployment AND replica = @replica AND stop_time IS NULL AND ready_time <> @ready
            """, ("now", Columns.Time(now)), ("account", replica.Account), ("deployment", replica.DeploymentId), ("replica", replica.ReplicaId),
            ("ready", ready));
        var spec = db.QuerySingle("SELECT accelerator_type, accelerator_count FROM deployments WHERE account = @account AND id = @id",
            r => (Type: r.GetString(0), Count: r.GetInt32(1)), ("account", replica.Account), ("id", replica.DeploymentId));
        db.Execute("""
            INSERT INTO replica_usage (account, deployment, replica, accelerator_type, accelerator_count, ready_time, stop_time)
            VALUES (@account, @deployment, @replica, @type, @count, @ready, NULL) ON CONFLICT DO NOTHING
            """, ("account", replica.Account), ("deployment", replica.DeploymentId), ("replica", replica.ReplicaId),
            ("type", spec.Type), ("count", spec.Count), ("ready", ready));
    }

    private void CloseReplicaUsage(SqlSession db, string account, string deploymentId, string? replicaId, DateTimeOffset now) =>
        db.Execute($"""
            UPDATE replica_usage SET stop_time = {Dialect.Greatest}(ready_time, @now)
            WHERE account = @account AND deployment = @deployment{(replicaId is null ? "" : " AND replica = @replica")} AND stop_time IS NULL
            """, replicaId is null
                ? [("now", Columns.Time(now)), ("account", account), ("deployment", deploymentId)]
                : [("now", Columns.Time(now)), ("account", account), ("deployment", deploymentId), ("replica", replicaId)]);

    private static (string Where, (string, object?)[] Args) Window(string account, UsageQuery query, string bucketColumn)
    {
        var conditions = new List<string> { "account = @account" };
        var args = new List<(string, object?)> { ("account", account) };
        if (query.DeploymentId is { } d)
        {
            conditions.Add("deployment = @deployment");
            args.Add(("deployment", d));
        }
        if (query.Start is { } start)
        {
            conditions.Add($"{bucketColumn} >= @start");
            args.Add(("start", Columns.Time(start)));
        }
        if (query.End is { } end)
        {
            conditions.Add($"{bucketColumn} < @end");
            args.Add(("end", Columns.Time(end)));
        }
        return (string.Join(" AND ", conditions), [.. args]);
    }
}
