using Kiln.Core.Deployments;
using Kiln.Core.Errors;
using Kiln.Core.Names;

namespace Kiln.Store.Sql;

public abstract partial class SqlKilnStore
{
    private const string ReplicaColumns =
        "account, deployment, id, phase, generation, runtime_handle, port, host, start_time, ready_time, failure_count, last_error, update_time, wait_reason, devices";

    /// <summary>Most events one <see cref="ListRecentEventsAsync"/> call returns.</summary>
    public const int MaxEventLimit = 1000;

    /// <inheritdoc />
    public Task<ReplicaRecord> UpsertReplicaAsync(ReplicaRecord replica, CancellationToken ct = default) =>
        Write(ct, (db, now) => UpsertReplica(db, replica, now));

    /// <inheritdoc />
    public Task<IReadOnlyList<ReplicaRecord>> WriteReplicasAsync(IReadOnlyList<ReplicaRecord> replicas, IReadOnlyList<NewDeploymentEvent> events, CancellationToken ct = default) =>
        Write<IReadOnlyList<ReplicaRecord>>(ct, (db, now) =>
        {
            var stored = replicas.Select(r => UpsertReplica(db, r, now)).ToList();
            AppendEvents(db, events, now);
            return stored;
        });

    private ReplicaRecord UpsertReplica(SqlSession db, ReplicaRecord replica, DateTimeOffset now)
    {
        ResourceNames.RequireValidId(replica.ReplicaId, "replica");
        RequireDeployment(db, replica.Account, replica.DeploymentId);
        db.Execute($"""
            INSERT INTO replicas ({ReplicaColumns})
            VALUES (@account, @deployment, @id, @phase, @generation, @handle, @port, @host, @start, @ready, @failures, @error, @now, @wait, @devices)
            ON CONFLICT (account, deployment, id) DO UPDATE SET
                phase = excluded.phase, generation = excluded.generation, runtime_handle = excluded.runtime_handle, port = excluded.port,
                host = excluded.host, start_time = excluded.start_time, ready_time = excluded.ready_time,
                failure_count = excluded.failure_count, last_error = excluded.last_error, update_time = excluded.update_time,
                wait_reason = excluded.wait_reason, devices = excluded.devices
            """,
            ("account", replica.Account), ("deployment", replica.DeploymentId), ("id", replica.ReplicaId), ("phase", replica.Phase.ToWireName()),
            ("generation", replica.Generation), ("handle", replica.RuntimeHandle), ("port", replica.Port), ("host", replica.Host),
            ("start", Columns.Time(replica.StartTime)), ("ready", Columns.Time(replica.ReadyTime)), ("failures", replica.FailureCount),
            ("error", replica.LastError), ("now", Columns.Time(now)), ("wait", replica.WaitReason),
            ("devices", replica.Devices.Count == 0 ? null : string.Join(',', replica.Devices)));
        TrackReplicaUsage(db, replica, now);
        return db.QuerySingle($"SELECT {ReplicaColumns} FROM replicas WHERE account = @account AND deployment = @deployment AND id = @id",
            MapReplica, ("account", replica.Account), ("deployment", replica.DeploymentId), ("id", replica.ReplicaId))!;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ReplicaRecord>> ListReplicasAsync(string account, string deploymentId, CancellationToken ct = default) =>
        Read<IReadOnlyList<ReplicaRecord>>(ct, db => db.Query(
            $"SELECT {ReplicaColumns} FROM replicas WHERE account = @account AND deployment = @deployment ORDER BY id",
            MapReplica, ("account", account), ("deployment", deploymentId)));

    /// <inheritdoc />
    public Task<IReadOnlyList<ReplicaRecord>> ListAllReplicasAsync(CancellationToken ct = default) =>
        Read<IReadOnlyList<ReplicaRecord>>(ct, db => db.Query(
            $"SELECT {ReplicaColumns} FROM replicas ORDER BY account, deployment, id", MapReplica));

    /// <inheritdoc />
    public Task<bool> DeleteReplicaAsync(string account, string deploymentId, string replicaId, CancellationToken ct = default) =>
        Write(ct, (db, now) =>
        {
            CloseReplicaUsage(db, account, deploymentId, replicaId, now);
            return db.Execute("DELETE FROM replicas WHERE account = @account AND deployment = @deployment AND id = @id",
                ("account", account), ("deployment", deploymentId), ("id", replicaId)) > 0;
        });

    /// <inheritdoc />
    public Task<DeploymentEvent> AppendEventAsync(string account, string deploymentId, string type, string message, CancellationToken ct = default) =>
        Write(ct, (db, now) =>
        {
            if (string.IsNullOrWhiteSpace(type))
            {
                throw KilnError.InvalidArgument("event type must not be empty");
            }
            RequireDeployment(db, account, deploymentId);
            var seq = db.Scalar("""
                INSERT INTO deployment_events (account, deployment, time, type, message)
                VALUES (@account, @deployment, @time, @type, @message) RETURNING seq
                """,
                ("account", account), ("deployment", deploymentId), ("time", Columns.Time(now)), ("type", type), ("message", message));
            return new DeploymentEvent(seq, account, deploymentId, now, type, message);
        });

    /// <inheritdoc />
    public Task<int> AppendEventsAsync(IReadOnlyList<NewDeploymentEvent> events, CancellationToken ct = default) =>
        Write(ct, (db, now) => AppendEvents(db, events, now));

    private int AppendEvents(SqlSession db, IReadOnlyList<NewDeploymentEvent> events, DateTimeOffset now)
    {
        if (events.Count == 0)
        {
            return 0;
        }
        if (events.FirstOrDefault(e => string.IsNullOrWhiteSpace(e.Type)) is { } bad)
        {
            throw KilnError.InvalidArgument($"event type must not be empty (an event of accounts/{bad.Account}/deployments/{bad.DeploymentId})");
        }
        var time = Columns.Time(now);
        var order = events.Select((e, i) => (Event: e, Index: i)).ToList();
        // Sorted by list position, since a join may reorder the rows and the sequence orders events.
        return ExecuteBatch(db, """
                INSERT INTO deployment_events (account, deployment, time, type, message)
                SELECT column1, column2, column3, column4, column5 FROM ({0}) AS v
                WHERE EXISTS (SELECT 1 FROM deployments d WHERE d.account = v.column1 AND d.id = v.column2)
                ORDER BY column6
                """, order, 6, x => [x.Event.Account, x.Event.DeploymentId, time, x.Event.Type, x.Event.Message, x.Index]);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<DeploymentEvent>> ListRecentEventsAsync(string account, string deploymentId, int limit = 20, CancellationToken ct = default) =>
        Read<IReadOnlyList<DeploymentEvent>>(ct, db =>
        {
            if (limit is < 1 or > MaxEventLimit)
            {
                throw KilnError.InvalidArgument($"limit must be between 1 and {MaxEventLimit}, got {limit}");
            }
            var newestFirst = db.Query("""
                SELECT seq, account, deployment, time, type, message FROM deployment_events
                WHERE account = @account AND deployment = @deployment ORDER BY seq DESC LIMIT @limit
                """,
                r => new DeploymentEvent(r.GetInt64(0), r.GetString(1), r.GetString(2), Columns.Time(r.GetInt64(3)), r.GetString(4), r.GetString(5)),
                ("account", account), ("deployment", deploymentId), ("limit", limit));
            newestFirst.Reverse();
            return newestFirst;
        });

    private static void RequireDeployment(SqlSession db, string account, string id)
    {
        if (db.Scalar("SELECT COUNT(*) FROM deployments WHERE account = @account AND id = @id", ("account", account), ("id", id)) == 0)
        {
            throw KilnError.NotFound("deployment", $"accounts/{account}/deployments/{id}");
        }
    }

    private static ReplicaRecord MapReplica(SqlRow r) => new()
    {
        Account = r.GetString(0),
        DeploymentId = r.GetString(1),
        ReplicaId = r.GetString(2),
        Phase = Columns.Enum<ReplicaPhase>(r.GetString(3), ReplicaPhases.TryParse),
        Generation = r.GetInt64(4),
        RuntimeHandle = r.GetNullableString(5),
        Port = r.GetNullableInt32(6),
        Host = r.GetNullableString(7),
        StartTime = Columns.Time(r.GetInt64(8)),
        ReadyTime = Columns.Time(r.GetNullableInt64(9)),
        FailureCount = r.GetInt32(10),
        LastError = r.GetNullableString(11),
        UpdateTime = Columns.Time(r.GetInt64(12)),
        WaitReason = r.GetNullableString(13),
        // Device IDs never hold a comma (UUIDs or indices).
        Devices = r.GetNullableString(14)?.Split(',', StringSplitOptions.RemoveEmptyEntries) ?? [],
    };
}
