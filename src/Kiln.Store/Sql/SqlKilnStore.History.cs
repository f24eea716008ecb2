using Kiln.Core.History;

namespace Kiln.Store.Sql;

public abstract partial class SqlKilnStore
{
    private const string HistoryColumns =
        "time, replicas, desired_replicas, load, load_target, held_requests, requests_per_second, tokens_per_second, p50_latency, p99_latency";

    /// <inheritdoc />
    public Task AppendDeploymentHistoryAsync(IReadOnlyList<DeploymentHistoryRecord> samples, DateTimeOffset pruneBefore, CancellationToken ct = default) =>
        Write(ct, (db, _) =>
        {
            // A second sample of a deployment at the same instant (in this batch or an earlier one) is dropped.
            ExecuteBatch(db, $"INSERT INTO deployment_history (account, deployment, {HistoryColumns}) {{0}} ON CONFLICT DO NOTHING", samples, 12,
                s => [s.Account, s.DeploymentId, Columns.Time(s.Point.Time), s.Point.Replicas, s.Point.DesiredReplicas, s.Point.Load, s.Point.LoadTarget,
                      s.Point.HeldRequests, s.Point.RequestsPerSecond, s.Point.TokensPerSecond, s.Point.P50LatencySeconds, s.Point.P99LatencySeconds]);
            db.Execute("DELETE FROM deployment_history WHERE time < @before", ("before", Columns.Time(pruneBefore)));
            return true;
        });

    /// <inheritdoc />
    public Task<IReadOnlyList<HistoryPoint>> ListDeploymentHistoryAsync(string account, string deploymentId, DateTimeOffset start, DateTimeOffset end, CancellationToken ct = default) =>
        Read<IReadOnlyList<HistoryPoint>>(ct, db => db.Query($"""
            SELECT {HistoryColumns} FROM deployment_history
            WHERE account = @account AND deployment = @deployment AND time >= @start AND time < @end ORDER BY time
            """,
            r => new HistoryPoint
            {
                Time = Columns.Time(r.GetInt64(0)),
                Replicas = r.GetInt32(1),
                DesiredReplicas = r.GetInt32(2),
                Load = r.GetDouble(3),
                LoadTarget = r.GetString(4),
                HeldRequests = r.GetInt32(5),
                RequestsPerSecond = r.GetDouble(6),
                TokensPerSecond = r.GetDouble(7),
                P50LatencySeconds = r.IsNull(8) ? null : r.GetDouble(8),
                P99LatencySeconds = r.IsNull(9) ? null : r.GetDouble(9),
            },
            ("account", account), ("deployment", deploymentId), ("start", Columns.Time(start)), ("end", Columns.Time(end))));
}
