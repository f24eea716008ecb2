using System.Data;
using Kiln.Core.Errors;
using Kiln.Core.Time;
using Kiln.Store.Sql;
using Npgsql;

namespace Kiln.Store.Postgres;

/// <summary>
/// The store in a PostgreSQL database (Npgsql), for several writers and several Kiln servers; the
/// same operations and semantics as the SQLite store, migrated on open.
/// </summary>
/// <remarks>
/// Each operation takes a pooled connection and runs in one transaction: reads in REPEATABLE READ
/// (one snapshot, as a SQLite read sees), writes in SERIALIZABLE, so a write's checks and changes
/// are atomic as under SQLite's single writer; a write that PostgreSQL refuses because a
/// concurrent one got there first (serialization failure, deadlock) runs again from the start,
/// a few times; a write that keeps losing then waits its turn behind this process's other stubborn
/// writes (so in-process contention on a hot row cannot starve it, only other instances can)
/// before it reports ABORTED. A lost database is UNAVAILABLE, and the pool's idle
/// connections are dropped so that the next operation reconnects when the database is back.
/// Npgsql prepares the statements a connection repeats (auto-prepare) and keeps them across the
/// pool's reuse of the connection. Times come from the injected clock, truncated to milliseconds.
/// </remarks>
public sealed class PostgresKilnStore : SqlKilnStore
{
    // Serialization failures under contention resolve within a few attempts; the bound only keeps a
    // pathological hot spot from looping for ever.
    private const int MaxWriteAttempts = 16;

    // After this many lost attempts a write retries only while holding _stubbornWrites.
    private const int OptimisticAttempts = 2;

    // Any fixed number: every Kiln server migrating any database on the cluster serialises on it,
    // which costs nothing (migrations are rare and short).
    private const long MigrationLockKey = 0x4B494C4E_5343484D; // "KILNSCHM"

    private readonly NpgsqlDataSource _source;
    private readonly SemaphoreSlim _stubbornWrites = new(1, 1);
    private readonly IClock _clock;
    private readonly string _database;

    private PostgresKilnStore(NpgsqlDataSource source, IClock clock, string database)
        : base(SqlDialect.Postgres)
    {
        _source = source;
        _clock = clock;
        _database = database;
    }

    /// <summary>The schema version this build migrates to.</summary>
    public static int LatestSchemaVersion => PostgresSchemaSteps.Steps[^1].Version;

    /// <summary>Host, port and database (no credentials).</summary>
    public string Database => _database;

    /// <summary>
    /// Connects to the database <paramref name="connectionString"/> names (see
    /// <see cref="PostgresConnectionString"/>) and applies pending migrations under an advisory lock,
    /// so that servers starting together migrate once. A malformed value is INVALID_ARGUMENT; a
    /// database that cannot be reached or used is UNAVAILABLE.
    /// </summary>
    public static PostgresKilnStore Open(string connectionString, IClock? clock = null)
    {
        var builder = PostgresConnectionString.Parse(connectionString);
        if (builder.MaxAutoPrepare == 0)
        {
            builder.MaxAutoPrepare = 128;
        }
        builder.ApplicationName ??= "kiln";
        var database = PostgresConnectionString.Describe(builder);
        clock ??= SystemClock.Instance;
        var source = NpgsqlDataSource.Create(builder);
        try
        {
            using (var db = Session(source.OpenConnection()))
            {
                db.Scalar("SELECT pg_advisory_lock(@key)", ("key", MigrationLockKey));
                try
                {
                    Migrator.Migrate(db, PostgresSchemaSteps.Steps, PostgresSchemaSteps.HistoryTable, Columns.Time(clock.UtcNow));
                }
                finally
                {
                    db.Scalar("SELECT pg_advisory_unlock(@key)::int", ("key", MigrationLockKey));
                }
            }
            return new PostgresKilnStore(source, clock, database);
        }
        catch (Exception e)
        {
            source.Dispose();
            throw PostgresErrors.Translate(e, database);
        }
    }

    /// <summary>The schema version recorded in the database.</summary>
    public long SchemaVersion() => Read(CancellationToken.None, Migrator.CurrentVersion).GetAwaiter().GetResult();

    /// <summary>Closes the pool's connections.</summary>
    public override void Dispose() => _source.Dispose();

    private protected override Task<T> Read<T>(CancellationToken ct, Func<SqlSession, T> body) =>
        Run(ct, write: false, (db, _) => body(db));

    private protected override Task<T> RunWrite<T>(CancellationToken ct, Func<SqlSession, DateTimeOffset, T> body) =>
        Run(ct, write: true, body);

    // Off the caller's thread: Npgsql's synchronous calls wait on the network.
    private Task<T> Run<T>(CancellationToken ct, bool write, Func<SqlSession, DateTimeOffset, T> body) => Task.Run(async () =>
    {
        var holding = false;
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                ct.ThrowIfCancellationRequested();
                try
                {
                    using var db = Session(_source.OpenConnection());
                    using var tx = db.Begin(write);
                    var result = body(db, Columns.Truncate(_clock.UtcNow));
                    tx.Commit();
                    return result;
                }
                catch (Exception e) when (write && attempt < MaxWriteAttempts && PostgresErrors.IsRetryable(e))
                {
                    if (attempt >= OptimisticAttempts && !holding)
                    {
                        await _stubbornWrites.WaitAsync(ct);
                        holding = true;
                    }
                    else
                    {
                        // Let the transaction that won finish; spread the losers apart.
                        await Task.Delay(Random.Shared.Next(1, 4 << Math.Min(attempt, 5)), ct);
                    }
                }
                catch (Exception e) when (e is not (KilnError or OperationCanceledException or ObjectDisposedException))
                {
                    if (PostgresErrors.IsConnectionLoss(e))
                    {
                        // Idle connections in the pool died with this one; reconnect afresh next time.
                        _source.Clear();
                    }
                    throw PostgresErrors.Translate(e, _database);
                }
            }
        }
        finally
        {
            if (holding)
            {
                _stubbornWrites.Release();
            }
        }
    }, ct);

    private static SqlSession Session(NpgsqlConnection connection) =>
        new(connection, (c, write) => ((NpgsqlConnection)c).BeginTransaction(write ? IsolationLevel.Serializable : IsolationLevel.RepeatableRead));
}
