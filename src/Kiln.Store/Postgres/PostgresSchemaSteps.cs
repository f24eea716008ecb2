using Kiln.Store.Sql;

namespace Kiln.Store.Postgres;

/// <summary>
/// PostgreSQL's twin of every SQLite schema step (<c>Sqlite/SchemaMigrations</c>): the same
/// version reaches the same tables, columns, keys and indexes, in PostgreSQL's types. A new SQLite
/// step gets its twin here under the same version number, appended in order.
/// </summary>
/// <remarks>
/// Integers are BIGINT (times in unix milliseconds, durations in ticks), so every column reads as
/// a long as SQLite's do; flags are BOOLEAN. Names and ids are TEXT in the "C" collation, so that
/// lists and page tokens order byte by byte as in SQLite, whatever the database's locale.
/// </remarks>
internal static class PostgresSchemaSteps
{
    /// <summary>How the applied steps are recorded (see <see cref="Migrator"/>).</summary>
    public const string HistoryTable = """
        CREATE TABLE IF NOT EXISTS schema_version (
            version      BIGINT NOT NULL PRIMARY KEY,
            description  TEXT NOT NULL,
            applied_time BIGINT NOT NULL
        )
        """;

    public static readonly IReadOnlyList<SchemaStep> Steps =
    [
        new(1, "accounts, api keys, models, deployments, replicas, events", """
            CREATE TABLE accounts (
                id           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
                display_name TEXT NOT NULL,
                tier         TEXT NOT NULL,
                spend_limit  TEXT,
                create_time  BIGINT NOT NULL,
                update_time  BIGINT NOT NULL
            );

            CREATE TABLE api_keys (
                account        TEXT COLLATE "C" NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
                id             TEXT COLLATE "C" NOT NULL,
                key_hash       TEXT NOT NULL UNIQUE,
                display_name   TEXT NOT NULL,
                create_time    BIGINT NOT NULL,
                last_used_time BIGINT,
                PRIMARY KEY (account, id)
            );

            CREATE TABLE models (
                account        TEXT COLLATE "C" NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
                id             TEXT COLLATE "C" NOT NULL,
                display_name   TEXT,
                kind           TEXT NOT NULL,
                base_model     TEXT COLLATE "C",
                file_path      TEXT NOT NULL,
                sha256         TEXT,
                size_bytes     BIGINT NOT NULL,
                architecture   TEXT,
                context_length BIGINT,
                state          TEXT NOT NULL,
                create_time    BIGINT NOT NULL,
                update_time    BIGINT NOT NULL,
                PRIMARY KEY (account, id)
            );

            CREATE TABLE deployments (
                account                    TEXT COLLATE "C" NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
                id                         TEXT COLLATE "C" NOT NULL,
                base_model                 TEXT COLLATE "C" NOT NULL,
                display_name               TEXT,
                min_replica_count          BIGINT NOT NULL,
                max_replica_count          BIGINT NOT NULL,
                scale_up_window_ticks      BIGINT NOT NULL,
                scale_down_window_ticks    BIGINT NOT NULL,
                scale_to_zero_window_ticks BIGINT NOT NULL,
                load_targets               TEXT NOT NULL,
                unused_auto_delete_ticks   BIGINT NOT NULL,
                accelerator_type           TEXT NOT NULL,
                accelerator_count          BIGINT NOT NULL,
                enable_addons              BOOLEAN NOT NULL,
                state                      TEXT NOT NULL,
                status_code                TEXT NOT NULL,
                status_message             TEXT NOT NULL,
                desired_replica_count      BIGINT NOT NULL,
                generation                 BIGINT NOT NULL,
                observed_generation        BIGINT NOT NULL,
                created_by                 TEXT,
                create_time                BIGINT NOT NULL,
                update_time                BIGINT NOT NULL,
                delete_time                BIGINT,
                last_request_time          BIGINT,
                PRIMARY KEY (account, id)
            );
            CREATE INDEX deployments_by_base_model ON deployments(base_model);

            CREATE TABLE replicas (
                account       TEXT COLLATE "C" NOT NULL,
                deployment    TEXT COLLATE "C" NOT NULL,
                id            TEXT COLLATE "C" NOT NULL,
                phase         TEXT NOT NULL,
                generation    BIGINT NOT NULL,
                pid           BIGINT,
                port          BIGINT,
                host          TEXT,
                start_time    BIGINT NOT NULL,
                ready_time    BIGINT,
                failure_count BIGINT NOT NULL,
                last_error    TEXT,
                update_time   BIGINT NOT NULL,
                PRIMARY KEY (account, deployment, id),
                FOREIGN KEY (account, deployment) REFERENCES deployments(account, id) ON DELETE CASCADE
            );

            CREATE TABLE deployment_events (
                seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                account    TEXT COLLATE "C" NOT NULL,
                deployment TEXT COLLATE "C" NOT NULL,
                time       BIGINT NOT NULL,
                type       TEXT NOT NULL,
                message    TEXT NOT NULL,
                FOREIGN KEY (account, deployment) REFERENCES deployments(account, id) ON DELETE CASCADE
            );
            CREATE INDEX deployment_events_by_deployment ON deployment_events(account, deployment, seq);
            CREATE FUNCTION deployment_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'deployment events are append-only';
            END;
            $$;
            CREATE TRIGGER deployment_events_append_only BEFORE UPDATE ON deployment_events
                FOR EACH ROW EXECUTE FUNCTION deployment_events_append_only();
            """),
        new(2, "request usage per minute, replica billing intervals", """
            CREATE TABLE request_usage (
                account           TEXT COLLATE "C" NOT NULL,
                api_key           TEXT COLLATE "C" NOT NULL,
                deployment        TEXT COLLATE "C" NOT NULL,
                model             TEXT COLLATE "C" NOT NULL,
                minute            BIGINT NOT NULL,
                requests          BIGINT NOT NULL,
                prompt_tokens     BIGINT NOT NULL,
                completion_tokens BIGINT NOT NULL,
                PRIMARY KEY (account, minute, deployment, api_key, model)
            );

            -- No foreign keys: the bill outlives purged deployments and deleted keys.
            CREATE TABLE replica_usage (
                account           TEXT COLLATE "C" NOT NULL,
                deployment        TEXT COLLATE "C" NOT NULL,
                replica           TEXT COLLATE "C" NOT NULL,
                accelerator_type  TEXT NOT NULL,
                accelerator_count BIGINT NOT NULL,
                ready_time        BIGINT NOT NULL,
                stop_time         BIGINT,
                PRIMARY KEY (account, deployment, replica, ready_time)
            );
            CREATE INDEX replica_usage_open ON replica_usage(account, deployment, replica) WHERE stop_time IS NULL;
            """),
        new(3, "deployed models (addons loaded onto deployments)", """
            CREATE TABLE deployed_models (
                account     TEXT COLLATE "C" NOT NULL,
                id          TEXT COLLATE "C" NOT NULL,
                model       TEXT COLLATE "C" NOT NULL,
                deployment  TEXT COLLATE "C" NOT NULL,
                state       TEXT NOT NULL,
                create_time BIGINT NOT NULL,
                update_time BIGINT NOT NULL,
                PRIMARY KEY (account, id),
                UNIQUE (account, model, deployment),
                FOREIGN KEY (account, model) REFERENCES models(account, id) ON DELETE CASCADE,
                FOREIGN KEY (account, deployment) REFERENCES deployments(account, id) ON DELETE CASCADE
            );
            CREATE INDEX deployed_models_by_deployment ON deployed_models(account, deployment);
            """),
        new(4, "deployment precision", """
            ALTER TABLE deployments ADD COLUMN precision TEXT NOT NULL DEFAULT 'FP32';
            """),
        new(5, "generation at which a deployment's replicas last had to restart", """
            ALTER TABLE deployments ADD COLUMN restart_generation BIGINT NOT NULL DEFAULT 0;
            """),
        new(6, "deployment row version for optimistic concurrency", """
            ALTER TABLE deployments ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
            """),
        new(7, "the reason a deployment's deletion was requested", """
            ALTER TABLE deployments ADD COLUMN delete_reason_code TEXT;
            ALTER TABLE deployments ADD COLUMN delete_reason TEXT;
            """),
        new(8, "leader leases and wake requests", """
            CREATE TABLE leases (
                name         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
                holder       TEXT NOT NULL,
                epoch        BIGINT NOT NULL,
                acquire_time BIGINT NOT NULL,
                renew_time   BIGINT NOT NULL,
                expire_time  BIGINT NOT NULL
            );

            CREATE TABLE wake_requests (
                account      TEXT COLLATE "C" NOT NULL,
                deployment   TEXT COLLATE "C" NOT NULL,
                request_time BIGINT NOT NULL,
                PRIMARY KEY (account, deployment),
                FOREIGN KEY (account, deployment) REFERENCES deployments(account, id) ON DELETE CASCADE
            );
            """),
        new(9, "replica runtime handle and scheduler wait reason", """
            ALTER TABLE replicas ADD COLUMN runtime_handle TEXT;
            ALTER TABLE replicas ADD COLUMN wait_reason TEXT;
            UPDATE replicas SET runtime_handle = 'pid:' || pid WHERE pid IS NOT NULL;
            """),
        // The GPUs a replica's process was given, comma-separated, so that they show with the replica.
        new(10, "replica devices", """
            ALTER TABLE replicas ADD COLUMN devices TEXT;
            """),
        new(11, "undelete time, description and scale requests", """
            ALTER TABLE deployments ADD COLUMN undelete_time BIGINT;
            ALTER TABLE deployments ADD COLUMN description TEXT;

            CREATE TABLE scale_requests (
                account       TEXT COLLATE "C" NOT NULL,
                deployment    TEXT COLLATE "C" NOT NULL,
                replica_count BIGINT NOT NULL,
                request_time  BIGINT NOT NULL,
                PRIMARY KEY (account, deployment),
                FOREIGN KEY (account, deployment) REFERENCES deployments(account, id) ON DELETE CASCADE
            );
            """),
        new(12, "model sources, download progress and status", """
            ALTER TABLE models ADD COLUMN source TEXT;
            ALTER TABLE models ADD COLUMN source_url TEXT;
            ALTER TABLE models ADD COLUMN expected_sha256 TEXT;
            ALTER TABLE models ADD COLUMN status_code TEXT;
            ALTER TABLE models ADD COLUMN status_message TEXT;
            ALTER TABLE models ADD COLUMN download_bytes BIGINT;
            ALTER TABLE models ADD COLUMN download_total BIGINT;
            ALTER TABLE models ADD COLUMN download_rate BIGINT;
            """),
        // One row per autoscaler pass and live deployment, kept a day (pruned by time): the console's
        // charts. No foreign key: a deployment's recent past stays readable while it is deleted.
        new(13, "deployment history samples", """
            CREATE TABLE deployment_history (
                account            TEXT COLLATE "C" NOT NULL,
                deployment         TEXT COLLATE "C" NOT NULL,
                time               BIGINT NOT NULL,
                replicas           BIGINT NOT NULL,
                desired_replicas   BIGINT NOT NULL,
                load               DOUBLE PRECISION NOT NULL,
                load_target        TEXT NOT NULL,
                held_requests      BIGINT NOT NULL,
                requests_per_second DOUBLE PRECISION NOT NULL,
                tokens_per_second  DOUBLE PRECISION NOT NULL,
                p50_latency        DOUBLE PRECISION,
                p99_latency        DOUBLE PRECISION,
                PRIMARY KEY (account, deployment, time)
            );
            CREATE INDEX deployment_history_by_time ON deployment_history(time);
            """),
        // Speculation is off unless asked for: existing deployments keep decoding one token per step.
        new(14, "deployment speculative decoding", """
            ALTER TABLE deployments ADD COLUMN draft_model TEXT;
            ALTER TABLE deployments ADD COLUMN draft_token_count INTEGER;
            ALTER TABLE deployments ADD COLUMN ngram_speculation_length INTEGER;
            """),
        new(15, "deployment engine and extra arguments, model format", """
            ALTER TABLE deployments ADD COLUMN engine TEXT NOT NULL DEFAULT 'kiln';
            ALTER TABLE deployments ADD COLUMN engine_args TEXT;
            ALTER TABLE models ADD COLUMN format TEXT NOT NULL DEFAULT 'GGUF';
            """),
        // Requests kept per second for a day, then rolled up into request_usage's minutes (the
        // reaper does it): a usage window counts each bucket whose start it holds, so adjacent
        // windows add up, and a window edge is exact to the second within the last day.
        new(16, "request usage per second", """
            CREATE TABLE request_usage_seconds (
                account           TEXT COLLATE "C" NOT NULL,
                api_key           TEXT COLLATE "C" NOT NULL,
                deployment        TEXT COLLATE "C" NOT NULL,
                model             TEXT COLLATE "C" NOT NULL,
                second_start      BIGINT NOT NULL,
                requests          BIGINT NOT NULL,
                prompt_tokens     BIGINT NOT NULL,
                completion_tokens BIGINT NOT NULL,
                PRIMARY KEY (account, second_start, deployment, api_key, model)
            );
            CREATE INDEX request_usage_seconds_by_time ON request_usage_seconds(second_start);
            """),
        // NULL follows the server's --max-addons-per-deployment, as every deployment did before.
        new(17, "per-deployment addon limit", """
            ALTER TABLE deployments ADD COLUMN max_addon_count INTEGER;
            """),
        // Why an addon could not be loaded on the deployment's replicas (NULL while nothing failed).
        new(18, "deployed model load status", """
            ALTER TABLE deployed_models ADD COLUMN status_code TEXT;
            ALTER TABLE deployed_models ADD COLUMN status_message TEXT;
            """),
        // Deployments stored before shapes had none, and ran with the engine's default settings.
        new(19, "deployment shape and engine settings", """
            ALTER TABLE deployments ADD COLUMN deployment_shape TEXT;
            ALTER TABLE deployments ADD COLUMN max_batch_size INTEGER;
            ALTER TABLE deployments ADD COLUMN max_context_length INTEGER;
            ALTER TABLE deployments ADD COLUMN prefix_cache_mb INTEGER;
            """),
        // A counter every change the gateway routes by moves, in the transaction that makes it, so
        // a routing refresh that finds it unmoved reads nothing more. Deployments count changes of
        // their version (every change but the gateway's last-request bookkeeping moves it),
        // replicas changes of phase or address, deployed models every change.
        new(20, "routing change counter", """
            CREATE TABLE change_counters (
                name  TEXT COLLATE "C" PRIMARY KEY,
                value BIGINT NOT NULL
            );
            INSERT INTO change_counters (name, value) VALUES ('routing', 0);
            CREATE FUNCTION count_routing_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE change_counters SET value = value + 1 WHERE name = 'routing';
                RETURN NULL;
            END
            $$;
            CREATE TRIGGER routing_deployment_added_or_removed AFTER INSERT OR DELETE ON deployments
                FOR EACH ROW EXECUTE FUNCTION count_routing_change();
            CREATE TRIGGER routing_deployment_changed AFTER UPDATE ON deployments
                FOR EACH ROW WHEN (OLD.version IS DISTINCT FROM NEW.version) EXECUTE FUNCTION count_routing_change();
            CREATE TRIGGER routing_replica_added_or_removed AFTER INSERT OR DELETE ON replicas
                FOR EACH ROW EXECUTE FUNCTION count_routing_change();
            CREATE TRIGGER routing_replica_changed AFTER UPDATE ON replicas
                FOR EACH ROW WHEN (OLD.phase IS DISTINCT FROM NEW.phase OR OLD.port IS DISTINCT FROM NEW.port OR OLD.host IS DISTINCT FROM NEW.host)
                EXECUTE FUNCTION count_routing_change();
            CREATE TRIGGER routing_deployed_model_changed AFTER INSERT OR UPDATE OR DELETE ON deployed_models
                FOR EACH ROW EXECUTE FUNCTION count_routing_change();
            """),
    ];
}
