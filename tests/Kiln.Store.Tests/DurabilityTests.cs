using Kiln.Core.Deployments;
using Kiln.Core.Errors;
using Kiln.Store.Sqlite;

namespace Kiln.Store.Tests;

public sealed class DurabilityTests : IDisposable
{
    private readonly TempStore _t = new();

    public void Dispose() => _t.Dispose();

    [Fact]
    public async Task Everything_survives_reopen()
    {
        var d = await _t.SeedDeploymentAsync(max: 2);
        var updated = await _t.Store.UpdateDeploymentSpecAsync("acme", "d1", d.Spec with { DisplayName = "kept" }, d.Generation);
        await _t.Store.UpsertReplicaAsync(new ReplicaRecord { Account = "acme", DeploymentId = "d1", ReplicaId = "r1", RuntimeHandle = "slurm:77", StartTime = _t.Clock.UtcNow });
        await _t.Store.AppendEventAsync("acme", "d1", "Created", "made");

        var store = _t.Reopen();
        Assert.Equal(updated, await store.GetDeploymentAsync("acme", "d1"));
        Assert.Equal("slurm:77", (await store.ListAllReplicasAsync()).Single().RuntimeHandle);
        Assert.Equal("made", (await store.ListRecentEventsAsync("acme", "d1")).Single().Message);
    }

    [Fact]
    public async Task Migrations_are_idempotent_on_reopen()
    {
        Assert.Equal(SqliteKilnStore.LatestSchemaVersion, _t.Sqlite.SchemaVersion());
        await _t.Store.CreateAccountAsync(new NewAccount("acme"));
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(SqliteKilnStore.LatestSchemaVersion, ((SqliteKilnStore)_t.Reopen()).SchemaVersion());
        }
        Assert.NotNull(await _t.Store.GetAccountAsync("acme"));
    }

    [Fact]
    public async Task Two_stores_opening_one_new_file_migrate_once()
    {
        var path = Path.Combine(_t.Directory, "shared.db");
        var opens = Enumerable.Range(0, 4).Select(_ => Task.Run(() => SqliteKilnStore.Open(path, _t.Clock))).ToList();
        var stores = await Task.WhenAll(opens);
        try
        {
            Assert.All(stores, s => Assert.Equal(SqliteKilnStore.LatestSchemaVersion, s.SchemaVersion()));
        }
        finally
        {
            foreach (var s in stores)
            {
                s.Dispose();
            }
        }
    }

    [Fact]
    public void A_newer_schema_is_refused()
    {
        _t.Store.Dispose();
        var db = SqliteDatabaseAccess.Open(_t.Path);
        db.Execute("INSERT INTO schema_version (version, description, applied_time) VALUES (999, 'future', 0)");
        db.Dispose();
        var e = Assert.Throws<KilnError>(() => SqliteKilnStore.Open(_t.Path, _t.Clock));
        Assert.Equal(StatusCode.FailedPrecondition, e.Code);
        Assert.Contains("version 999", e.Message);
        SqliteDatabaseAccess.Open(_t.Path).Execute("DELETE FROM schema_version WHERE version = 999");
        _t.Reopen();
    }

    [Fact]
    public async Task Deployments_from_before_precision_read_as_fp32()
    {
        var d = await _t.SeedDeploymentAsync();
        var store = ReopenAsVersion(3, "delete_reason", "delete_reason_code", "version", "restart_generation", "precision");
        Assert.Equal(SqliteKilnStore.LatestSchemaVersion, store.SchemaVersion());
        var migrated = (await store.GetDeploymentAsync("acme", "d1"))!;
        Assert.Equal(Precision.Fp32, migrated.Spec.Precision);
        Assert.Equal(d with { RestartGeneration = 0 }, migrated);
        await store.UpdateDeploymentSpecAsync("acme", "d1", d.Spec with { Precision = Precision.Fp16 }, d.Generation);
        Assert.Equal(Precision.Fp16, (await _t.Reopen().GetDeploymentAsync("acme", "d1"))!.Spec.Precision);
    }

    [Fact]
    public async Task Deployments_from_before_restart_generations_restart_only_for_later_changes()
    {
        var d = await _t.SeedDeploymentAsync(max: 3);
        d = await _t.Store.UpdateDeploymentSpecAsync("acme", "d1", d.Spec with { MaxReplicaCount = 2 }, d.Generation);
        var store = ReopenAsVersion(4, "delete_reason", "delete_reason_code", "version", "restart_generation");
        var migrated = (await store.GetDeploymentAsync("acme", "d1"))!;
        // Unknown for earlier changes: 0 lets every replica whose process still matches move forward.
        Assert.Equal(d with { RestartGeneration = 0, Version = 1 }, migrated);
        var scaled = await store.UpdateDeploymentSpecAsync("acme", "d1", d.Spec with { MaxReplicaCount = 3 }, d.Generation);
        Assert.Equal(0, scaled.RestartGeneration);
        var moved = await store.UpdateDeploymentSpecAsync("acme", "d1", scaled.Spec with { AcceleratorCount = 2 }, scaled.Generation);
        Assert.Equal(4, moved.RestartGeneration);
        Assert.Equal(4, (await _t.Reopen().GetDeploymentAsync("acme", "d1"))!.RestartGeneration);
    }

    [Fact]
    public async Task Deletions_requested_before_reasons_were_kept_have_none()
    {
        await _t.SeedDeploymentAsync();
        var requested = await _t.Store.RequestDeploymentDeletionAsync("acme", "d1");
        var store = ReopenAsVersion(6, "delete_reason", "delete_reason_code");
        Assert.Equal(SqliteKilnStore.LatestSchemaVersion, store.SchemaVersion());
        Assert.Equal(requested, await store.GetDeploymentAsync("acme", "d1"));
        Assert.Null(requested.DeletionReason);
    }

    [Fact]
    public async Task Replicas_from_before_runtime_handles_keep_their_process_id_as_one()
    {
        await _t.SeedDeploymentAsync();
        await _t.Store.UpsertReplicaAsync(new ReplicaRecord { Account = "acme", DeploymentId = "d1", ReplicaId = "r1", StartTime = _t.Clock.UtcNow });
        await _t.Store.UpsertReplicaAsync(new ReplicaRecord { Account = "acme", DeploymentId = "d1", ReplicaId = "r2", StartTime = _t.Clock.UtcNow });
        // Schemas up to 8 knew a replica's process by its pid column alone.
        var store = ReopenAsVersion(8, db => db.Execute("UPDATE replicas SET pid = 4242 WHERE id = 'r1'"));
        Assert.Equal(SqliteKilnStore.LatestSchemaVersion, store.SchemaVersion());
        var replicas = await store.ListReplicasAsync("acme", "d1");
        Assert.Equal([("r1", "pid:4242"), ("r2", null)], replicas.Select(r => (r.ReplicaId, r.RuntimeHandle)));
        Assert.All(replicas, r => Assert.Null(r.WaitReason));
        await store.UpsertReplicaAsync(replicas[1] with { RuntimeHandle = "slurm:99", WaitReason = "queued by Slurm (Priority)" });
        Assert.Equal(("slurm:99", "queued by Slurm (Priority)"),
            (await _t.Reopen().ListReplicasAsync("acme", "d1")).Select(r => (r.RuntimeHandle, r.WaitReason)).Last());
    }

    // Tables that later steps create, dropped when rewinding to before them.
    private static readonly (int Step, string Table)[] LaterTables = [(8, "leases"), (8, "wake_requests"), (11, "scale_requests"), (13, "deployment_history"), (16, "request_usage_seconds"), (20, "change_counters")];

    // Columns that steps from 10 on add, dropped when rewinding to before them.
    private static readonly (int Step, string Table, string Column)[] LaterColumns =
    [
        (10, "replicas", "devices"),
        (11, "deployments", "undelete_time"), (11, "deployments", "description"),
        (12, "models", "source"), (12, "models", "source_url"), (12, "models", "expected_sha256"), (12, "models", "status_code"),
        (12, "models", "status_message"), (12, "models", "download_bytes"), (12, "models", "download_total"), (12, "models", "download_rate"),
        (14, "deployments", "draft_model"), (14, "deployments", "draft_token_count"), (14, "deployments", "ngram_speculation_length"),
        (15, "deployments", "engine"), (15, "deployments", "engine_args"), (15, "models", "format"),
        (17, "deployments", "max_addon_count"),
        (18, "deployed_models", "status_code"), (18, "deployed_models", "status_message"),
        (19, "deployments", "deployment_shape"), (19, "deployments", "max_batch_size"), (19, "deployments", "max_context_length"),
        (19, "deployments", "prefix_cache_mb"),
    ];

    /// <summary>Rewinds the file to the schema <paramref name="version"/> left (dropping the later columns) and reopens it.</summary>
    private SqliteKilnStore ReopenAsVersion(int version, params string[] laterDeploymentColumns) => ReopenAsVersion(version, _ => { }, laterDeploymentColumns);

    /// <summary>As above, with <paramref name="before"/> run on the rewound file (to write what the older schema held).</summary>
    private SqliteKilnStore ReopenAsVersion(int version, Action<Kiln.Store.Sql.SqlSession> before, params string[] laterDeploymentColumns)
    {
        _t.Store.Dispose();
        using (var db = SqliteDatabaseAccess.Open(_t.Path))
        {
            // Step 20's triggers name columns that rewinding further drops: they go first.
            if (version < 20)
            {
                foreach (var trigger in db.Query("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'routing_%'", r => r.GetString(0)))
                {
                    db.Execute($"DROP TRIGGER {trigger}");
                }
            }
            foreach (var column in laterDeploymentColumns)
            {
                db.Execute($"ALTER TABLE deployments DROP COLUMN {column}");
            }
            foreach (var (step, table) in LaterTables.Where(t => t.Step > version))
            {
                db.Execute($"DROP TABLE IF EXISTS {table}");
            }
            foreach (var (_, table, column) in LaterColumns.Where(c => c.Step > version))
            {
                db.Execute($"ALTER TABLE {table} DROP COLUMN {column}");
            }
            if (version < 9)
            {
                db.Execute("ALTER TABLE replicas DROP COLUMN runtime_handle");
                db.Execute("ALTER TABLE replicas DROP COLUMN wait_reason");
            }
            before(db);
            db.Execute("DELETE FROM schema_version WHERE version > @version", ("version", version));
        }
        return (SqliteKilnStore)_t.Reopen();
    }

    [Fact]
    public async Task Database_uses_wal_and_foreign_keys()
    {
        await _t.SeedDeploymentAsync();
        await _t.Store.AppendEventAsync("acme", "d1", "Created", "x");
        Assert.True(File.Exists(_t.Path + "-wal"));
        using var db = SqliteDatabaseAccess.Open(_t.Path);
        db.Execute("PRAGMA foreign_keys=ON");
        var e = Assert.ThrowsAny<Exception>(() => db.Execute(
            "INSERT INTO replicas (account, deployment, id, phase, generation, start_time, failure_count, update_time) VALUES ('acme', 'ghost', 'r', 'PENDING', 1, 0, 0, 0)"));
        Assert.Contains("FOREIGN KEY", e.Message);
        var append = Assert.ThrowsAny<Exception>(() => db.Execute("UPDATE deployment_events SET message = 'x'"));
        Assert.Contains("append-only", append.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disposed_store_refuses_work()
    {
        _t.Store.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => _t.Store.GetAccountAsync("acme"));
        _t.Reopen();
    }

    [Fact]
    public async Task Cancelled_token_is_honoured()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _t.Store.CreateAccountAsync(new NewAccount("acme"), cts.Token));
        Assert.Null(await _t.Store.GetAccountAsync("acme"));
    }

    [Fact]
    public async Task Spec_round_trips_every_field()
    {
        await _t.Store.CreateAccountAsync(new NewAccount("acme"));
        var spec = new DeploymentSpec
        {
            BaseModel = "accounts/acme/models/m",
            DisplayName = "ünïcode ✓",
            MinReplicaCount = 2,
            MaxReplicaCount = 7,
            AutoscalingPolicy = new AutoscalingPolicy
            {
                ScaleUpWindow = TimeSpan.FromTicks(1),
                ScaleDownWindow = TimeSpan.FromDays(3),
                ScaleToZeroWindow = TimeSpan.FromMilliseconds(1500),
                LoadTargets = new Dictionary<string, double> { ["default"] = 0.1 + 0.2, ["concurrent_requests"] = 3 },
            },
            UnusedAutoDeleteDuration = TimeSpan.FromHours(1.5),
            AcceleratorType = AcceleratorType.AmdMi300X_192GB,
            AcceleratorCount = 8,
            EnableAddons = true,
            Precision = Precision.Fp16,
        };
        await _t.Store.CreateDeploymentAsync(new NewDeployment("acme", "d", spec, 2));
        Assert.Equal(spec, (await _t.Reopen().GetDeploymentAsync("acme", "d"))!.Spec);
    }
}
