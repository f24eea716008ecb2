using Kiln.Store.Sql;

namespace Kiln.Store.Sqlite;

/// <summary>
/// The schema as ordered steps. A step, once released, never changes: a change is a new step.
/// Times are unix milliseconds (UTC); durations are TimeSpan ticks; enums are their wire names.
/// </summary>
internal static class SchemaMigrations
{
    /// <summary>How the applied steps are recorded (see <see cref="Migrator"/>).</summary>
    public const string HistoryTable = """
        CREATE TABLE IF NOT EXISTS schema_version (
            version      INTEGER NOT NULL PRIMARY KEY,
            description  TEXT NOT NULL,
            applied_time INTEGER NOT NULL
        )
        """;

    public static readonly IReadOnlyList<SchemaStep> Steps =
    [
        new(1, "accounts, api keys, models, deployments, replicas, events", """
            CREATE TABLE accounts (
                id           TEXT NOT NULL PRIMARY KEY,
                display_name TEXT NOT NULL,
                tier         TEXT NOT NULL,
                spend_limit  TEXT,
                create_time  INTEGER NOT NULL,
                update_time  INTEGER NOT NULL
            );

            CREATE TABLE api_keys (
                account        TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
                id             TEXT NOT NULL,
                key_hash       TEXT NOT NULL UNIQUE,
                display_name   TEXT NOT NULL,
                create_time    INTEGER NOT NULL,
                last_used_time INTEGER,
                PRIMARY KEY (account, id)
            );

            CREATE TABLE models (
                account        TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
                id             TEXT NOT NULL,
                display_name   TEXT,
                kind           TEXT NOT NULL,
                base_model     TEXT,
                file_path      TEXT NOT NULL,
                sha256         TEXT,
                size_bytes     INTEGER NOT NULL,
                architecture   TEXT,
                context_length INTEGER,
                state          TEXT NOT NULL,
                create_time    INTEGER NOT NULL,
                update_time    INTEGER NOT NULL,
                PRIMARY KEY (account, id)
            );

            CREATE TABLE deployments (
                account                    TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
                id                         TEXT NOT NULL,
                base_model                 TEXT NOT NULL,
                display_name               TEXT,
                min_replica_count          INTEGER NOT NULL,
                max_replica_count          INTEGER NOT NULL,
                scale_up_window_ticks      INTEGER NOT NULL,
                scale_down_window_ticks    INTEGER NOT NULL,
                scale_to_zero_window_ticks INTEGER NOT NULL,
                load_targets               TEXT NOT NULL,
                unused_auto_delete_ticks   INTEGER NOT NULL,
                accelerator_type           TEXT NOT NULL,
                accelerator_count          INTEGER NOT NULL,
                enable_addons              INTEGER NOT NULL,
                state                      TEXT NOT NULL,
                status_code                TEXT NOT NULL,
                status_message             TEXT NOT NULL,
                desired_replica_count      INTEGER NOT NULL,
                generation                 INTEGER NOT NULL,
                observed_generation        INTEGER NOT NULL,
                created_by                 TEXT,
                create_time                INTEGER NOT NULL,
                update_time                INTEGER NOT NULL,
                delete_time                INTEGER,
                last_request_time          INTEGER,
                PRIMARY KEY (account, id)
            );
            CREATE INDEX deployments_by_base_model ON deployments(base_model);

            CREATE TABLE replicas (
                account       TEXT NOT NULL,
                deployment    TEXT NOT NULL,
                id            TEXT NOT NULL,
                phase         TEXT NOT NULL,
                generation    INTEGER NOT NULL,
                pid           INTEGER,
                port          INTEGER,
                host          TEXT,
                start_time    INTEGER NOT NULL,
                ready_time    INTEGER,
                failure_count INTEGER NOT NULL,
                last_error    TEXT,
                update_time   INTEGER NOT NULL,
                PRIMARY KEY (account, deployment, id),
                FOREIGN KEY (account, deployment) REFERENCES deployments(account, id) ON DELETE CASCADE
            );

            CREATE TABLE deployment_events (
                seq        INTEGER PRIMARY KEY AUTOINCREMENT,
                account    TEXT NOT NULL,
                deployment TEXT NOT NULL,
                time       INTEGER NOT NULL,
                type       TEXT NOT NULL,
                message    TEXT NOT NULL,
                FOREIGN KEY (account, deployment) REFERENCES deployments(account, id) ON DELETE CASCADE
            );
            CREATE INDEX deployment_events_by_deployment ON deployment_events(account, deployment, seq);
            CREATE TRIGGER deployment_events_append_only BEFORE UPDATE ON deployment_events
            BEGIN
                SELECT RAISE(ABORT, 'deployment events are append-only');
            END;
            """),
        new(2, "request usage per minute, replica billing intervals", """
            CREATE TABLE request_usage (
                account           TEXT NOT NULL,
                api_key           TEXT NOT NULL,
                deployment        TEXT NOT NULL,
                model             TEXT NOT NULL,
                minute            INTEGER NOT NULL,
                requests          INTEGER NOT NULL,
                prompt_tokens     INTEGER NOT NULL,
                completion_tokens INTEGER NOT NULL,
                PRIMARY KEY (account, minute, deployment, api_key, model)
            );

            -- No foreign keys: the bill outlives purged deployments and deleted keys.
            CREATE TABLE replica_usage (
                account           TEXT NOT NULL,
                deployment        TEXT NOT NULL,
                replica           TEXT NOT NULL,
                accelerator_type  TEXT NOT NULL,
                accelerator_count INTEGER NOT NULL,
                ready_time        INTEGER NOT NULL,
                stop_time         INTEGER,
                PRIMARY KEY (account, deployment, replica, ready_time)
            );
            CREATE INDEX replica_usage_open ON replica_usage(account, deployment, replica) WHERE stop_time IS NULL;
            """),
        new(3, "deployed models (addons loaded onto deployments)", """
            CREATE TABLE deployed_models (
                account     TEXT NOT NULL,
                id          TEXT NOT NULL,
                model       TEXT NOT NULL,
                deployment  TEXT NOT NULL,
                state       TEXT NOT NULL,
                create_time INTEGER NOT NULL,
                update_time INTEGER NOT NULL,
                PRIMARY KEY (account, id),
                UNIQUE (account, model, deployment),
                FOREIGN KEY (account, model) REFERENCES models(account, id) ON DELETE CASCADE,
                FOREIGN KEY (account, deployment) REFERENCES deployments(account, id) ON DELETE CASCADE
            );
            CREATE INDEX deployed_models_by_deployment ON deployed_models(account, deployment);
            """),
        // Deployments created before precision existed ran an F32 KV cache: the default says so.
        new(4, "deployment precision", """
            ALTER TABLE deployments ADD COLUMN precision TEXT NOT NULL DEFAULT 'FP32';
            """),
        // Which earlier changes of an existing deployment needed a restart is not known: 0 keeps the
        // rule they were rolled out under (a replica whose process still matches moves forward), so
        // the upgrade itself restarts nothing.
        new(5, "generation at which a deployment's replicas last had to restart", """
            ALTER TABLE deployments ADD COLUMN restart_generation INTEGER NOT NULL DEFAULT 0;
            """),
        // Every change to a deployment row moves its version, so a writer that decided on what it
        // read can insist that nothing changed meanwhile. Rows stored before start at 1, as new ones do.
        new(6, "deployment row version for optimistic concurrency", """
            ALTER TABLE deployments ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
            """),
        // A deletion request carries its reason (the reaper's) beside the delete time, so the
        // requester writes no status: the reconciler alone turns the request into DELETING.
        new(7, "the reason a deployment's deletion was requested", """
            ALTER TABLE deployments ADD COLUMN delete_reason_code TEXT;
            ALTER TABLE deployments ADD COLUMN delete_reason TEXT;
            """),
        // Several server instances over one store: one leader lease per name (the controllers'),
        // whose epoch only grows (the fencing token), and the wakes any instance's gateway asks of
        // the leader's autoscaler for deployments at zero.
        new(8, "leader leases and wake requests", """
            CREATE TABLE leases (
                name         TEXT NOT NULL PRIMARY KEY,
                holder       TEXT NOT NULL,
                epoch        INTEGER NOT NULL,
                acquire_time INTEGER NOT NULL,
                renew_time   INTEGER NOT NULL,
                expire_time  INTEGER NOT NULL
            );

            CREATE TABLE wake_requests (
                account      TEXT NOT NULL,
                deployment   TEXT NOT NULL,
                request_time INTEGER NOT NULL,
                PRIMARY KEY (account, deployment),
                FOREIGN KEY (account, deployment) REFERENCES deployments(account, id) ON DELETE CASCADE
            );
            """),
        // A replica is a local process or a cluster job: its handle is text naming which
        // ('pid:1234', 'slurm:5678'). Recorded process IDs carry over; the pid column stays, unused.
        new(9, "replica runtime handle and scheduler wait reason", """
            ALTER TABLE replicas ADD COLUMN runtime_handle TEXT;
            ALTER TABLE replicas ADD COLUMN wait_reason TEXT;
            UPDATE replicas SET runtime_handle = 'pid:' || pid WHERE pid IS NOT NULL;
            """),
        // The GPUs a replica's process was given, comma-separated, so that they show with the replica.
        new(10, "replica devices", """
            ALTER TABLE replicas ADD COLUMN devices TEXT;
            """),
        // An undeleted deployment's idle clocks (auto-delete, scale to zero) restart when it comes
        // back; its description is part of the spec; a scale request is the API's ask of the
        // autoscaler, which takes it as it takes wake requests.
        new(11, "undelete time, description and scale requests", """
            ALTER TABLE deployments ADD COLUMN undelete_time INTEGER;
            ALTER TABLE deployments ADD COLUMN description TEXT;

            CREATE TABLE scale_requests (
                account       TEXT NOT NULL,
                deployment    TEXT NOT NULL,
                replica_count INTEGER NOT NULL,
                request_time  INTEGER NOT NULL,
                PRIMARY KEY (account, deployment),
                FOREIGN KEY (account, deployment) REFERENCES deployments(account, id) ON DELETE CASCADE
            );
            """),
        // A model the server downloads: what it was asked for (source), where that resolved to, the
        // digest to check (when known up front), how far the download got and, when it failed, why.
        new(12, "model sources, download progress and status", """
            ALTER TABLE models ADD COLUMN source TEXT;
            ALTER TABLE models ADD COLUMN source_url TEXT;
            ALTER TABLE models ADD COLUMN expected_sha256 TEXT;
            ALTER TABLE models ADD COLUMN status_code TEXT;
            ALTER TABLE models ADD COLUMN status_message TEXT;
            ALTER TABLE models ADD COLUMN download_bytes INTEGER;
            ALTER TABLE models ADD COLUMN download_total INTEGER;
            ALTER TABLE models ADD COLUMN download_rate INTEGER;
            """),
        // One row per autoscaler pass and live deployment, kept a day (pruned by time): the console's
        // charts. No foreign key: a deployment's recent past stays readable while it is deleted.
        new(13, "deployment history samples", """
            CREATE TABLE deployment_history (
                account            TEXT NOT NULL,
                deployment         TEXT NOT NULL,
                time               INTEGER NOT NULL,
                replicas           INTEGER NOT NULL,
                desired_replicas   INTEGER NOT NULL,
                load               REAL NOT NULL,
                load_target        TEXT NOT NULL,
                held_requests      INTEGER NOT NULL,
                requests_per_second REAL NOT NULL,
                tokens_per_second  REAL NOT NULL,
                p50_latency        REAL,
                p99_latency        REAL,
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
        // Deployments and models stored before engines existed ran Kiln's engine on GGUF files.
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
                account           TEXT NOT NULL,
                api_key           TEXT NOT NULL,
                deployment        TEXT NOT NULL,
                model             TEXT NOT NULL,
                second_start      INTEGER NOT NULL,
                requests          INTEGER NOT NULL,
                prompt_tokens     INTEGER NOT NULL,
                completion_tokens INTEGER NOT NULL,
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
                name  TEXT PRIMARY KEY,
                value INTEGER NOT NULL
            );
            INSERT INTO change_counters (name, value) VALUES ('routing', 0);
            CREATE TRIGGER routing_deployment_added AFTER INSERT ON deployments
            BEGIN UPDATE change_counters SET value = value + 1 WHERE name = 'routing'; END;
            CREATE TRIGGER routing_deployment_changed AFTER UPDATE ON deployments WHEN OLD.version IS NOT NEW.version
            BEGIN UPDATE change_counters SET value = value + 1 WHERE name = 'routing'; END;
            CREATE TRIGGER routing_deployment_removed AFTER DELETE ON deployments
            BEGIN UPDATE change_counters SET value = value + 1 WHERE name = 'routing'; END;
            CREATE TRIGGER routing_replica_added AFTER INSERT ON replicas
            BEGIN UPDATE change_counters SET value = value + 1 WHERE name = 'routing'; END;
            CREATE TRIGGER routing_replica_changed AFTER UPDATE ON replicas
                WHEN OLD.phase IS NOT NEW.phase OR OLD.port IS NOT NEW.port OR OLD.host IS NOT NEW.host
            BEGIN UPDATE change_counters SET value = value + 1 WHERE name = 'routing'; END;
            CREATE TRIGGER routing_replica_removed AFTER DELETE ON replicas
            BEGIN UPDATE change_counters SET value = value + 1 WHERE name = 'routing'; END;
            CREATE TRIGGER routing_deployed_model_added AFTER INSERT ON deployed_models
            BEGIN UPDATE change_counters SET value = value + 1 WHERE name = 'routing'; END;
            CREATE TRIGGER routing_deployed_model_changed AFTER UPDATE ON deployed_models
            BEGIN UPDATE change_counters SET value = value + 1 WHERE name = 'routing'; END;
            CREATE TRIGGER routing_deployed_model_removed AFTER DELETE ON deployed_models
            BEGIN UPDATE change_counters SET value = value + 1 WHERE name = 'routing'; END;
            """),
    ];
}
