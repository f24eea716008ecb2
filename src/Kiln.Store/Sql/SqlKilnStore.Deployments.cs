using Kiln.Core.Deployments;
using Kiln.Core.Errors;
using Kiln.Core.Names;

namespace Kiln.Store.Sql;

/// <remarks>
/// Each writer of a deployment row sets only the columns it owns (the spec by the API, the desired
/// replica count by the autoscaler, the deletion request (time and reason) by the API and the
/// reaper, state and status by the reconciler, the last request time by the gateway), so writers of
/// different fields never undo each other. Every change except the
/// last request time (bookkeeping that only moves forward, written every second under load) moves
/// the row's <c>version</c>; a write given an expected version is refused with ABORTED when the
/// row moved on since the caller read it.
/// </remarks>
public abstract partial class SqlKilnStore
{
    private const string DeploymentColumns = """
        account, id, base_model, display_name, min_replica_count, max_replica_count,
        scale_up_window_ticks, scale_down_window_ticks, scale_to_zero_window_ticks, load_targets,
        unused_auto_delete_ticks, accelerator_type, accelerator_count, enable_addons, precision,
        draft_model, draft_token_count, ngram_speculation_length,
        state, status_code, status_message, desired_replica_count, generation, observed_generation,
        created_by, create_time, update_time, delete_time, last_request_time, restart_generation, version,
        delete_reason_code, delete_reason, undelete_time, description, engine, engine_args, max_addon_count,
        deployment_shape, max_batch_size, max_context_length, prefix_cache_mb
        """;

    private const string SpecAssignments = """
        base_model = @base_model, display_name = @display_name, min_replica_count = @min_replica_count,
        max_replica_count = @max_replica_count, scale_up_window_ticks = @scale_up_window_ticks,
        scale_down_window_ticks = @scale_down_window_ticks, scale_to_zero_window_ticks = @scale_to_zero_window_ticks,
        load_targets = @load_targets, unused_auto_delete_ticks = @unused_auto_delete_ticks, accelerator_type = @accelerator_type,
        accelerator_count = @accelerator_count, enable_addons = @enable_addons, precision = @precision,
        description = @description, draft_model = @draft_model, draft_token_count = @draft_token_count, ngram_speculation_length = @ngram_speculation_length,
        engine = @engine, engine_args = @engine_args,
        max_addon_count = @max_addon_count, deployment_shape = @deployment_shape, max_batch_size = @max_batch_size,
        max_context_length = @max_context_length, prefix_cache_mb = @prefix_cache_mb
        """;

    private const string SpecParameters = """
        @base_model, @display_name, @min_replica_count, @max_replica_count, @scale_up_window_ticks, @scale_down_window_ticks,
        @scale_to_zero_window_ticks, @load_targets, @unused_auto_delete_ticks, @accelerator_type, @accelerator_count,
        @enable_addons, @precision, @draft_model, @draft_token_count, @ngram_speculation_length
        """;

    /// <inheritdoc />
    public Task<DeploymentRecord> CreateDeploymentAsync(NewDeployment deployment, CancellationToken ct = default) => Write(ct, (db, now) =>
    {
        var name = new DeploymentName(deployment.Account, deployment.Id);
        DeploymentSpecValidator.EnsureValid(deployment.Spec);
        RequireDesiredInRange(deployment.DesiredReplicaCount, deployment.Spec);
        RequireAccount(db, deployment.Account);
        if (LoadDeployment(db, deployment.Account, deployment.Id) is not null)
        {
            throw KilnError.AlreadyExists("deployment", name.ToString());
        }
        db.Execute($"""
            INSERT INTO deployments ({DeploymentColumns})
            VALUES (@account, @id, {SpecParameters}, @state, @status_code, '', @desired, 1, 0, @created_by, @now, @now, NULL, NULL, 1, 1, NULL, NULL, NULL, @description, @engine, @engine_args, @max_addon_count,
                    @deployment_shape, @max_batch_size, @max_context_length, @prefix_cache_mb)
            """,
            [("account", deployment.Account), ("id", deployment.Id), .. SpecValues(deployment.Spec),
             ("state", DeploymentState.Creating.ToWireName()), ("status_code", StatusCode.Ok.ToWireName()),
             ("desired", deployment.DesiredReplicaCount), ("created_by", deployment.CreatedBy), ("now", Columns.Time(now))]);
        return LoadDeployment(db, deployment.Account, deployment.Id)!;
    });

    /// <inheritdoc />
    public Task<DeploymentRecord?> GetDeploymentAsync(string account, string id, CancellationToken ct = default) =>
        Read(ct, db => LoadDeployment(db, account, id));

    /// <inheritdoc />
    public Task<Page<DeploymentRecord>> ListDeploymentsAsync(string account, PageRequest page, bool showDeleted = false, CancellationToken ct = default) =>
        Read(ct, db => ListPage(db, $"deployments/{account}/{(showDeleted ? "all" : "live")}", page, DeploymentColumns, "deployments",
            showDeleted ? "account = @account" : "account = @account AND state <> 'DELETED'", [("account", account)], "id", MapDeployment, d => d.Id));

    /// <inheritdoc />
    public Task<IReadOnlyList<DeploymentRecord>> ListLiveDeploymentsAsync(CancellationToken ct = default) => Read<IReadOnlyList<DeploymentRecord>>(ct, db =>
        db.Query($"SELECT {DeploymentColumns} FROM deployments WHERE state <> 'DELETED' ORDER BY account, id", MapDeployment));

    /// <inheritdoc />
    public Task<IReadOnlyList<DeploymentName>> ListDeploymentsServingAsync(ModelName model, CancellationToken ct = default) =>
        Read<IReadOnlyList<DeploymentName>>(ct, db => ServingDeployments(db, model.ToString()));

    /// <inheritdoc />
    public Task<DeploymentRecord> UpdateDeploymentSpecAsync(string account, string id, DeploymentSpec spec, long expectedGeneration, CancellationToken ct = default) =>
        Write(ct, (db, now) =>
        {
            DeploymentSpecValidator.EnsureValid(spec);
            var current = RequireMutableDeployment(db, account, id);
            if (current.Generation != expectedGeneration)
            {
                throw KilnError.Conflict(
                    $"deployment {current.Name} changed concurrently: generation is {current.Generation}, expected {expectedGeneration}; read it again and retry");
            }
            if (current.Spec == spec)
            {
                return current;
            }
            // Keep the desired count inside the new bounds so readers never see it out of range.
            var desired = DesiredReplicas.Clamp(current.DesiredReplicaCount, spec);
            // Decided against the spec read in this transaction, so a concurrent PATCH cannot lose it.
            var restart = DeploymentSpecs.RequiresReplicaRestart(current.Spec, spec);
            return ChangeDeployment(db, current, $"""
                {SpecAssignments}, desired_replica_count = @desired, generation = generation + 1,
                restart_generation = CASE WHEN @restart THEN generation + 1 ELSE restart_generation END, update_time = @now
                """,
                [.. SpecValues(spec), ("desired", desired), ("restart", restart), ("now", Columns.Time(now))]);
        });

    /// <inheritdoc />
    public Task<DeploymentRecord> UpdateDeploymentStatusAsync(string account, string id, DeploymentStatusUpdate update, CancellationToken ct = default) =>
        UpdateDeploymentStatus(account, id, update, null, ct);

    /// <inheritdoc />
    public Task<DeploymentRecord> UpdateDeploymentStatusAsync(
        string account, string id, DeploymentStatusUpdate update, long expectedVersion, CancellationToken ct = default) =>
        UpdateDeploymentStatus(account, id, update, expectedVersion, ct);

    /// <remarks>Writing DELETING or DELETED also sets the delete time if no request set it.</remarks>
    private Task<DeploymentRecord> UpdateDeploymentStatus(string account, string id, DeploymentStatusUpdate update, long? expectedVersion, CancellationToken ct) =>
        Write(ct, (db, now) =>
        {
            var current = RequireDeploymentRecord(db, account, id);
            if (current.State == DeploymentState.Deleted && update.State != DeploymentState.Deleted)
            {
                throw KilnError.FailedPrecondition($"deployment {current.Name} is deleted");
            }
            RequireVersion(current, expectedVersion);
            if (current.DeleteTime is not null && !update.State.IsGoingAway())
            {
                throw KilnError.Conflict($"deletion of deployment {current.Name} was requested meanwhile; assess it again");
            }
            var goingAway = update.State.IsGoingAway();
            var observed = Math.Min(current.Generation, Math.Max(current.ObservedGeneration, update.ObservedGeneration));
            if (update.State == current.State && update.Status == current.Status && observed == current.ObservedGeneration
                && (!goingAway || current.DeleteTime is not null))
            {
                return current; // nothing changes, so the version stays
            }
            var updateTime = update.State == current.State ? current.UpdateTime : now;
            return ChangeDeployment(db, current, $"""
                state = @state, status_code = @status_code, status_message = @status_message,
                observed_generation = {Dialect.Least}(generation, {Dialect.Greatest}(observed_generation, @observed)), update_time = @update_time,
                delete_time = CASE WHEN @going_away THEN COALESCE(delete_time, @now) ELSE delete_time END
                """,
                ("state", update.State.ToWireName()), ("status_code", update.Status.Code.ToWireName()), ("status_message", update.Status.Message),
                ("observed", update.ObservedGeneration), ("update_time", Columns.Time(updateTime)), ("going_away", goingAway),
                ("now", Columns.Time(now)));
        });

    /// <inheritdoc />
    public Task<DeploymentRecord> SetDesiredReplicaCountAsync(string account, string id, int desiredReplicaCount, CancellationToken ct = default) =>
        SetDesiredReplicaCount(account, id, desiredReplicaCount, null, ct);

    /// <inheritdoc />
    public Task<DeploymentRecord> SetDesiredReplicaCountAsync(
        string account, string id, int desiredReplicaCount, long expectedVersion, CancellationToken ct = default) =>
        SetDesiredReplicaCount(account, id, desiredReplicaCount, expectedVersion, ct);

    private Task<DeploymentRecord> SetDesiredReplicaCount(string account, string id, int desiredReplicaCount, long? expectedVersion, CancellationToken ct) =>
        Write(ct, (db, _) =>
        {
            var current = RequireMutableDeployment(db, account, id);
            RequireVersion(current, expectedVersion);
            RequireDesiredInRange(desiredReplicaCount, current.Spec);
            if (current.DesiredReplicaCount == desiredReplicaCount)
            {
                return current;
            }
            return ChangeDeployment(db, current, "desired_replica_count = @desired", ("desired", desiredReplicaCount));
        });

    /// <inheritdoc />
    public Task RecordDeploymentRequestAsync(string account, string id, DateTimeOffset requestTime, CancellationToken ct = default) =>
        Write(ct, (db, _) => RecordLastRequest(db, account, id, requestTime) == 0
            ? throw KilnError.NotFound("deployment", $"accounts/{account}/deployments/{id}")
            : true);

    /// <inheritdoc />
    public Task<DeploymentRecord> RequestDeploymentDeletionAsync(string account, string id, DeletionReason? reason = null, CancellationToken ct = default) =>
        Write(ct, (db, now) =>
        {
            var current = RequireDeploymentRecord(db, account, id);
            if (current.DeleteTime is not null || current.State == DeploymentState.Deleted)
            {
                return current;
            }
            // Its replicas go, and with them every addon loaded on them.
            db.Execute("DELETE FROM deployed_models WHERE account = @account AND deployment = @id", ("account", account), ("id", id));
            return ChangeDeployment(db, current, """
                delete_time = @now, update_time = @now, delete_reason_code = @reason_code, delete_reason = @reason
                """,
                ("reason_code", reason?.Code.ToWireName()), ("reason", reason?.Message), ("now", Columns.Time(now)));
        });

    /// <inheritdoc />
    public Task<DeploymentRecord> UndeleteDeploymentAsync(string account, string id, int desiredReplicaCount, CancellationToken ct = default) =>
        Write(ct, (db, now) =>
        {
            var current = RequireDeploymentRecord(db, account, id);
            if (current.State != DeploymentState.Deleted)
            {
                var shown = current.DeleteTime is not null ? DeploymentState.Deleting : current.State;
                var hint = shown == DeploymentState.Deleting ? "; wait until it is DELETED" : "";
                throw KilnError.FailedPrecondition($"deployment {current.Name} is {shown.ToWireName()}, not DELETED: only a deleted deployment can be undeleted{hint}");
            }
            RequireDesiredInRange(desiredReplicaCount, current.Spec);
            // Back to CREATING as a new rollout: a new (restart) generation, so nothing of the old
            // replicas is carried over, and the deletion request and its reason are withdrawn.
            return ChangeDeployment(db, current, """
                state = @state, status_code = @status_code, status_message = '', desired_replica_count = @desired,
                generation = generation + 1, restart_generation = generation + 1, update_time = @now, undelete_time = @now,
                delete_time = NULL, delete_reason_code = NULL, delete_reason = NULL
                """,
                ("state", DeploymentState.Creating.ToWireName()), ("status_code", StatusCode.Ok.ToWireName()),
                ("desired", desiredReplicaCount), ("now", Columns.Time(now)));
        });

    /// <inheritdoc />
    public Task<bool> PurgeDeploymentAsync(string account, string id, CancellationToken ct = default) => Write(ct, (db, now) =>
    {
        CloseReplicaUsage(db, account, id, null, now);
        return db.Execute("DELETE FROM deployments WHERE account = @account AND id = @id", ("account", account), ("id", id)) > 0;
    });

    // The gateway's bookkeeping: only moves forward and leaves the version alone (see the class remarks).
    private int RecordLastRequest(SqlSession db, string account, string id, DateTimeOffset time) => db.Execute(
        $"UPDATE deployments SET last_request_time = {Dialect.Greatest}(COALESCE(last_request_time, 0), @time) WHERE account = @account AND id = @id",
        ("time", Columns.Time(time)), ("account", account), ("id", id));

    /// <summary>
    /// Sets <paramref name="assignments"/> on the row <paramref name="current"/> was read from and moves
    /// its version, only if the version is still the one read: the write transaction is already
    /// serialised with every other, but the statement stays safe on its own (compare and set).
    /// </summary>
    private static DeploymentRecord ChangeDeployment(SqlSession db, DeploymentRecord current, string assignments, params (string, object?)[] args)
    {
        var changed = db.Execute($"""
            UPDATE deployments SET {assignments}, version = version + 1
            WHERE account = @account AND id = @id AND version = @version
            """,
            [.. args, ("account", current.Account), ("id", current.Id), ("version", current.Version)]);
        if (changed == 0)
        {
            throw KilnError.Conflict($"deployment {current.Name} changed concurrently; read it again and retry");
        }
        return LoadDeployment(db, current.Account, current.Id)!;
    }

    private static DeploymentRecord RequireDeploymentRecord(SqlSession db, string account, string id) =>
        LoadDeployment(db, account, id) ?? throw KilnError.NotFound("deployment", $"accounts/{account}/deployments/{id}");

    private static DeploymentRecord RequireMutableDeployment(SqlSession db, string account, string id)
    {
        var current = RequireDeploymentRecord(db, account, id);
        if (current.DeleteTime is not null || current.State.IsGoingAway())
        {
            // A requested deletion is DELETING to its readers before the reconciler writes that state.
            var state = current.State == DeploymentState.Deleted ? current.State : DeploymentState.Deleting;
            throw KilnError.FailedPrecondition($"deployment {current.Name} is {state.ToWireName()}; it can no longer change");
        }
        return current;
    }

    private static void RequireVersion(DeploymentRecord current, long? expectedVersion)
    {
        if (expectedVersion is { } expected && current.Version != expected)
        {
            throw KilnError.Conflict(
                $"deployment {current.Name} changed concurrently: version is {current.Version}, expected {expected}; read it again and retry");
        }
    }

    private static void RequireDesiredInRange(int desired, DeploymentSpec spec)
    {
        if (desired < spec.MinReplicaCount || desired > spec.MaxReplicaCount)
        {
            throw KilnError.InvalidArgument(
                $"desiredReplicaCount {desired} is outside the deployment's replica range [{spec.MinReplicaCount}, {spec.MaxReplicaCount}]");
        }
    }

    private static List<DeploymentName> ServingDeployments(SqlSession db, string modelName) =>
        db.Query("""
            SELECT d.account, d.id FROM deployments d
            WHERE d.delete_time IS NULL AND d.state NOT IN ('DELETING', 'DELETED')
              AND (d.base_model = @model OR EXISTS (
                  SELECT 1 FROM deployed_models m
                  WHERE m.account = d.account AND m.deployment = d.id AND m.state <> 'UNDEPLOYING'
                    AND 'accounts/' || m.account || '/models/' || m.model = @model))
            ORDER BY d.account, d.id
            """, r => new DeploymentName(r.GetString(0), r.GetString(1)), ("model", modelName));

    private static (string, object?)[] SpecValues(DeploymentSpec s) =>
    [
        ("base_model", s.BaseModel), ("display_name", s.DisplayName), ("min_replica_count", s.MinReplicaCount),
        ("max_replica_count", s.MaxReplicaCount), ("scale_up_window_ticks", s.AutoscalingPolicy.ScaleUpWindow.Ticks),
        ("scale_down_window_ticks", s.AutoscalingPolicy.ScaleDownWindow.Ticks),
        ("scale_to_zero_window_ticks", s.AutoscalingPolicy.ScaleToZeroWindow.Ticks),
        ("load_targets", Columns.Map(s.AutoscalingPolicy.LoadTargets)), ("unused_auto_delete_ticks", s.UnusedAutoDeleteDuration.Ticks),
        ("accelerator_type", s.AcceleratorType.ToWireName()), ("accelerator_count", s.AcceleratorCount), ("enable_addons", s.EnableAddons),
        ("precision", s.Precision.ToWireName()), ("description", s.Description),
        ("draft_model", s.DraftModel), ("draft_token_count", s.DraftTokenCount),
        ("ngram_speculation_length", s.NgramSpeculationLength),
        ("engine", s.Engine), ("engine_args", Columns.List(s.EngineArgs)), ("max_addon_count", s.MaxAddonCount),
        ("deployment_shape", s.DeploymentShape), ("max_batch_size", s.MaxBatchSize),
        ("max_context_length", s.MaxContextLength), ("prefix_cache_mb", s.PrefixCacheMb),
    ];

    private static DeploymentRecord? LoadDeployment(SqlSession db, string account, string id) =>
        db.QuerySingle($"SELECT {DeploymentColumns} FROM deployments WHERE account = @account AND id = @id", MapDeployment,
            ("account", account), ("id", id));

    private static DeploymentRecord MapDeployment(SqlRow r) => new()
    {
        Account = r.GetString(0),
        Id = r.GetString(1),
        Spec = new DeploymentSpec
        {
            BaseModel = r.GetString(2),
            DisplayName = r.GetNullableString(3),
            MinReplicaCount = r.GetInt32(4),
            MaxReplicaCount = r.GetInt32(5),
            AutoscalingPolicy = new AutoscalingPolicy
            {
                ScaleUpWindow = TimeSpan.FromTicks(r.GetInt64(6)),
                ScaleDownWindow = TimeSpan.FromTicks(r.GetInt64(7)),
                ScaleToZeroWindow = TimeSpan.FromTicks(r.GetInt64(8)),
                LoadTargets = Columns.Map(r.GetString(9)),
            },
            UnusedAutoDeleteDuration = TimeSpan.FromTicks(r.GetInt64(10)),
            AcceleratorType = Columns.Enum<AcceleratorType>(r.GetString(11), AcceleratorTypes.TryParse),
            AcceleratorCount = r.GetInt32(12),
            EnableAddons = r.GetBool(13),
            Precision = Columns.Enum<Precision>(r.GetString(14), Precisions.TryParse),
            Description = r.GetNullableString(34),
            DraftModel = r.GetNullableString(15),
            DraftTokenCount = r.GetNullableInt32(16),
            NgramSpeculationLength = r.GetNullableInt32(17),
            Engine = r.GetString(35),
            EngineArgs = Columns.List(r.GetNullableString(36)),
            MaxAddonCount = r.GetNullableInt32(37),
            DeploymentShape = r.GetNullableString(38),
            MaxBatchSize = r.GetNullableInt32(39),
            MaxContextLength = r.GetNullableInt32(40),
            PrefixCacheMb = r.GetNullableInt32(41),
        },
        State = Columns.Enum<DeploymentState>(r.GetString(18), DeploymentStates.TryParse),
        Status = new DeploymentStatus(Columns.Enum<StatusCode>(r.GetString(19), StatusCodes.TryParse), r.GetString(20)),
        DesiredReplicaCount = r.GetInt32(21),
        Generation = r.GetInt64(22),
        ObservedGeneration = r.GetInt64(23),
        CreatedBy = r.GetNullableString(24),
        CreateTime = Columns.Time(r.GetInt64(25)),
        UpdateTime = Columns.Time(r.GetInt64(26)),
        DeleteTime = Columns.Time(r.GetNullableInt64(27)),
        LastRequestTime = Columns.Time(r.GetNullableInt64(28)),
        RestartGeneration = r.GetInt64(29),
        Version = r.GetInt64(30),
        DeletionReason = r.GetNullableString(32) is { } reason
            ? new DeletionReason(Columns.Enum<StatusCode>(r.GetString(31), StatusCodes.TryParse), reason)
            : null,
        UndeleteTime = Columns.Time(r.GetNullableInt64(33)),
    };
}
