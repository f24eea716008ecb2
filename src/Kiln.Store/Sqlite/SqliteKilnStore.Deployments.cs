using Kiln.Core.Deployments;
using Kiln.Core.Errors;
using Kiln.Core.Names;

namespace Kiln.Store.Sqlite;

public sealed partial class SqliteKilnStore
{
    private const string DeploymentColumns = """
        account, id, base_model, display_name, min_replica_count, max_replica_count,
        scale_up_window_ticks, scale_down_window_ticks, scale_to_zero_window_ticks, load_targets,
        unused_auto_delete_ticks, accelerator_type, accelerator_count, enable_addons, precision,
        state, status_code, status_message, desired_replica_count, generation, observed_generation,
        created_by, create_time, update_time, delete_time, last_request_time, restart_generation
        """;

    private const string SpecAssignments = """
        base_model = ?, display_name = ?, min_replica_count = ?, max_replica_count = ?,
        scale_up_window_ticks = ?, scale_down_window_ticks = ?, scale_to_zero_window_ticks = ?, load_targets = ?,
        unused_auto_delete_ticks = ?, accelerator_type = ?, accelerator_count = ?, enable_addons = ?, precision = ?
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
            VALUES (?, ?, {string.Join(", ", Enumerable.Repeat("?", 13))}, ?, ?, ?, ?, 1, 0, ?, ?, ?, NULL, NULL, 1)
            """,
            [deployment.Account, deployment.Id, .. SpecValues(deployment.Spec),
             DeploymentState.Creating.ToWireName(), StatusCode.Ok.ToWireName(), "", deployment.DesiredReplicaCount,
             deployment.CreatedBy, Columns.Time(now), Columns.Time(now)]);
        return LoadDeployment(db, deployment.Account, deployment.Id)!;
    });

    /// <inheritdoc />
    public Task<DeploymentRecord?> GetDeploymentAsync(string account, string id, CancellationToken ct = default) =>
        Read(ct, db => LoadDeployment(db, account, id));

    /// <inheritdoc />
    public Task<Page<DeploymentRecord>> ListDeploymentsAsync(string account, PageRequest page, bool showDeleted = false, CancellationToken ct = default) =>
        Read(ct, db => ListPage(db, $"deployments/{account}/{(showDeleted ? "all" : "live")}", page, DeploymentColumns, "deployments",
            showDeleted ? "account = ?" : "account = ? AND state <> 'DELETED'", [account], "id", MapDeployment, d => d.Id));

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
            db.Execute($"""
                UPDATE deployments SET {SpecAssignments}, desired_replica_count = ?, generation = generation + 1,
                    restart_generation = CASE WHEN ? THEN generation + 1 ELSE restart_generation END, update_time = ?
                WHERE account = ? AND id = ? AND generation = ?
                """,
                [.. SpecValues(spec), desired, restart, Columns.Time(now), account, id, expectedGeneration]);
            return LoadDeployment(db, account, id)!;
        });

    /// <inheritdoc />
    /// <remarks>Writing DELETING or DELETED also sets the delete time if no request set it.</remarks>
    public Task<DeploymentRecord> UpdateDeploymentStatusAsync(string account, string id, DeploymentStatusUpdate update, CancellationToken ct = default) =>
        Write(ct, (db, now) =>
        {
            var current = LoadDeployment(db, account, id) ?? throw KilnError.NotFound("deployment", $"accounts/{account}/deployments/{id}");
            if (current.State == DeploymentState.Deleted && update.State != DeploymentState.Deleted)
            {
                throw KilnError.FailedPrecondition($"deployment {current.Name} is deleted");
            }
            if (current.DeleteTime is not null && !update.State.IsGoingAway())
            {
                throw KilnError.Conflict($"deletion of deployment {current.Name} was requested meanwhile; assess it again");
            }
            var updateTime = update.State == current.State ? current.UpdateTime : now;
            db.Execute("""
                UPDATE deployments
                SET state = ?, status_code = ?, status_message = ?,
                    observed_generation = MIN(generation, MAX(observed_generation, ?)), update_time = ?,
                    delete_time = CASE WHEN ? THEN COALESCE(delete_time, ?) ELSE delete_time END
                WHERE account = ? AND id = ?
                """,
                update.State.ToWireName(), update.Status.Code.ToWireName(), update.Status.Message, update.ObservedGeneration,
                Columns.Time(updateTime), update.State.IsGoingAway(), Columns.Time(now), account, id);
            return LoadDeployment(db, account, id)!;
        });

    /// <inheritdoc />
    public Task<DeploymentRecord> SetDesiredReplicaCountAsync(string account, string id, int desiredReplicaCount, CancellationToken ct = default) =>
        Write(ct, (db, _) =>
        {
            var current = RequireMutableDeployment(db, account, id);
            RequireDesiredInRange(desiredReplicaCount, current.Spec);
            db.Execute("UPDATE deployments SET desired_replica_count = ? WHERE account = ? AND id = ?", desiredReplicaCount, account, id);
            return current with { DesiredReplicaCount = desiredReplicaCount };
        });

    /// <inheritdoc />
    public Task RecordDeploymentRequestAsync(string account, string id, DateTimeOffset requestTime, CancellationToken ct = default) =>
        Write(ct, (db, _) =>
        {
            var changed = db.Execute(
                "UPDATE deployments SET last_request_time = MAX(COALESCE(last_request_time, 0), ?) WHERE account = ? AND id = ?",
                Columns.Time(requestTime), account, id);
            return changed == 0 ? throw KilnError.NotFound("deployment", $"accounts/{account}/deployments/{id}") : true;
        });

    /// <inheritdoc />
    public Task<DeploymentRecord> RequestDeploymentDeletionAsync(string account, string id, CancellationToken ct = default) =>
        Write(ct, (db, now) =>
        {
            var current = LoadDeployment(db, account, id) ?? throw KilnError.NotFound("deployment", $"accounts/{account}/deployments/{id}");
            if (current.DeleteTime is not null || current.State == DeploymentState.Deleted)
            {
                return current;
            }
            db.Execute("""
                UPDATE deployments SET state = ?, status_code = ?, status_message = ?, delete_time = ?, update_time = ?
                WHERE account = ? AND id = ?
                """,
                DeploymentState.Deleting.ToWireName(), StatusCode.Ok.ToWireName(), "deletion requested", Columns.Time(now), Columns.Time(now), account, id);
            // Its replicas go, and with them every addon loaded on them.
            db.Execute("DELETE FROM deployed_models WHERE account = ? AND deployment = ?", account, id);
            return LoadDeployment(db, account, id)!;
        });

    /// <inheritdoc />
    public Task<bool> PurgeDeploymentAsync(string account, string id, CancellationToken ct = default) => Write(ct, (db, now) =>
    {
        CloseReplicaUsage(db, account, id, null, now);
        return db.Execute("DELETE FROM deployments WHERE account = ? AND id = ?", account, id) > 0;
    });

    private static DeploymentRecord RequireMutableDeployment(SqliteDatabase db, string account, string id)
    {
        var current = LoadDeployment(db, account, id) ?? throw KilnError.NotFound("deployment", $"accounts/{account}/deployments/{id}");
        if (current.DeleteTime is not null || current.State.IsGoingAway())
        {
            throw KilnError.FailedPrecondition($"deployment {current.Name} is {current.State.ToWireName()}; it can no longer change");
        }
        return current;
    }

    private static void RequireDesiredInRange(int desired, DeploymentSpec spec)
    {
        if (desired < spec.MinReplicaCount || desired > spec.MaxReplicaCount)
        {
            throw KilnError.InvalidArgument(
                $"desiredReplicaCount {desired} is outside the deployment's replica range [{spec.MinReplicaCount}, {spec.MaxReplicaCount}]");
        }
    }

    private static List<DeploymentName> ServingDeployments(SqliteDatabase db, string modelName) =>
        db.Query("""
            SELECT d.account, d.id FROM deployments d
            WHERE d.delete_time IS NULL AND d.state NOT IN ('DELETING', 'DELETED')
              AND (d.base_model = ? OR EXISTS (
                  SELECT 1 FROM deployed_models m
                  WHERE m.account = d.account AND m.deployment = d.id AND m.state <> 'UNDEPLOYING'
                    AND 'accounts/' || m.account || '/models/' || m.model = ?))
            ORDER BY d.account, d.id
            """, r => new DeploymentName(r.GetString(0), r.GetString(1)), modelName, modelName);

    private static object?[] SpecValues(DeploymentSpec s) =>
    [
        s.BaseModel, s.DisplayName, s.MinReplicaCount, s.MaxReplicaCount,
        s.AutoscalingPolicy.ScaleUpWindow.Ticks, s.AutoscalingPolicy.ScaleDownWindow.Ticks, s.AutoscalingPolicy.ScaleToZeroWindow.Ticks,
        Columns.Map(s.AutoscalingPolicy.LoadTargets),
        s.UnusedAutoDeleteDuration.Ticks, s.AcceleratorType.ToWireName(), s.AcceleratorCount, s.EnableAddons,
        s.Precision.ToWireName(),
    ];

    private static DeploymentRecord? LoadDeployment(SqliteDatabase db, string account, string id) =>
        db.QuerySingle($"SELECT {DeploymentColumns} FROM deployments WHERE account = ? AND id = ?", MapDeployment, account, id);

    private static DeploymentRecord MapDeployment(SqliteRow r) => new()
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
        },
        State = Columns.Enum<DeploymentState>(r.GetString(15), DeploymentStates.TryParse),
        Status = new DeploymentStatus(Columns.Enum<StatusCode>(r.GetString(16), StatusCodes.TryParse), r.GetString(17)),
        DesiredReplicaCount = r.GetInt32(18),
        Generation = r.GetInt64(19),
        ObservedGeneration = r.GetInt64(20),
        CreatedBy = r.GetNullableString(21),
        CreateTime = Columns.Time(r.GetInt64(22)),
        UpdateTime = Columns.Time(r.GetInt64(23)),
        DeleteTime = Columns.Time(r.GetNullableInt64(24)),
        LastRequestTime = Columns.Time(r.GetNullableInt64(25)),
        RestartGeneration = r.GetInt64(26),
    };
}
