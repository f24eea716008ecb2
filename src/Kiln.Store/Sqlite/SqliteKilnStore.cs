using System.Collections.Concurrent;
using Kiln.Core.Errors;
using Kiln.Core.Time;
using Kiln.Store.Sql;
using Microsoft.Data.Sqlite;

namespace Kiln.Store.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in WAL mode (Microsoft.Data.Sqlite), migrated on open.
/// </summary>
/// <remarks>
/// Writes go through one connection, guarded by a lock: SQLite admits one writer at a time anyway,
/// and queueing on a lock costs less than contending on SQLite's busy handler. Reads take a
/// connection of their own from a small pool, so they never wait for a write (WAL gives each read a
/// snapshot of everything committed before it began). Every operation runs in its own transaction
/// (IMMEDIATE for writes, so checks and changes are atomic even against other processes sharing
/// the file, which wait up to the busy timeout). Each connection keeps its statements prepared. The
/// async methods complete synchronously. Times come from the injected clock, truncated to
/// milliseconds.
/// </remarks>
public sealed class SqliteKilnStore : SqlKilnStore
{
    // Idle read connections kept open; more are opened under a burst and closed after it.
    private const int MaxIdleReaders = 4;

    private readonly SqlSession _writer;
    private readonly Lock _writeGate = new();
    private readonly ConcurrentBag<SqlSession> _readers = [];
    private readonly IClock _clock;
    private readonly TimeSpan _busyTimeout;
    private volatile bool _disposed;

    private SqliteKilnStore(SqlSession writer, IClock clock, string path, TimeSpan busyTimeout)
        : base(SqlDialect.Sqlite)
    {
        _writer = writer;
        _clock = clock;
        _busyTimeout = busyTimeout;
        Path = path;
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    /// <summary>The schema version this build migrates to.</summary>
    public static int LatestSchemaVersion => SchemaMigrations.Steps[^1].Version;

    /// <summary>
    /// Opens or creates the database at <paramref name="path"/> and applies pending migrations.
    /// </summary>
    /// <param name="path">The database file; its directory is created if missing.</param>
    /// <param name="clock">Source of timestamps; the system clock by default.</param>
    /// <param name="busyTimeout">How long to wait for another process's write lock (default 5 s; at least 1 s).</param>
    public static SqliteKilnStore Open(string path, IClock? clock = null, TimeSpan? busyTimeout = null)
    {
        var full = System.IO.Path.GetFullPath(path);
        var dir = System.IO.Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(dir))
        {
            Directory.CreateDirectory(dir);
        }
        clock ??= SystemClock.Instance;
        var timeout = busyTimeout ?? TimeSpan.FromSeconds(5);
        SqlSession? writer = null;
        try
        {
            writer = SqliteConnections.Open(full, timeout);
            Migrator.Migrate(writer, SchemaMigrations.Steps, SchemaMigrations.HistoryTable, Columns.Time(clock.UtcNow));
            return new SqliteKilnStore(writer, clock, full, timeout);
        }
        catch (Exception e)
        {
            writer?.Dispose();
            throw e is SqliteException s ? Translate(s) : e;
        }
    }

    /// <summary>The schema version recorded in the database.</summary>
    public long SchemaVersion() => Read(CancellationToken.None, Migrator.CurrentVersion).GetAwaiter().GetResult();

    /// <summary>The version of the SQLite library in use.</summary>
    public string SqliteVersion() => Read(CancellationToken.None, db => db.QuerySingle("SELECT sqlite_version()", r => r.GetString(0))!).GetAwaiter().GetResult();

    /// <summary>Closes the connections; operations already running finish first.</summary>
    public override void Dispose()
    {
        lock (_writeGate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            _writer.Dispose();
        }
        while (_readers.TryTake(out var reader))
        {
            reader.Dispose();
        }
    }

    private protected override Task<T> Read<T>(CancellationToken ct, Func<SqlSession, T> body)
    {
        if (ct.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(ct);
        }
        SqlSession? reader = null;
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_readers.TryTake(out reader))
            {
                reader = SqliteConnections.Open(Path, _busyTimeout, readOnly: true);
            }
            T result;
            using (var tx = reader.Begin(write: false))
            {
                result = body(reader);
                tx.Commit();
            }
            Release(reader);
            return Task.FromResult(result);
        }
        catch (KilnError e) when (reader is not null)
        {
            // The operation refused its input; its transaction is rolled back and the connection is fine.
            Release(reader);
            return Task.FromException<T>(e);
        }
        catch (Exception e)
        {
            // A connection that failed mid-operation is not trusted again.
            reader?.Dispose();
            return Task.FromException<T>(e is SqliteException s ? Translate(s) : e);
        }
    }

    private void Release(SqlSession reader)
    {
        if (_disposed || _readers.Count >= MaxIdleReaders)
        {
            reader.Dispose();
            return;
        }
        _readers.Add(reader);
        // Dispose may have drained the pool between the check and the add.
        if (_disposed && _readers.TryTake(out var late))
        {
            late.Dispose();
        }
    }

    private protected override Task<T> RunWrite<T>(CancellationToken ct, Func<SqlSession, DateTimeOffset, T> body)
    {
        if (ct.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(ct);
        }
        try
        {
            lock (_writeGate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                using var tx = _writer.Begin(write: true);
                var result = body(_writer, Columns.Truncate(_clock.UtcNow));
                tx.Commit();
                return Task.FromResult(result);
            }
        }
        catch (SqliteException e)
        {
            return Task.FromException<T>(Translate(e));
        }
        catch (Exception e)
        {
            return Task.FromException<T>(e);
        }
    }

    private const int Busy = 5;
    private const int ConstraintForeignKey = 787;
    private const int ConstraintPrimaryKey = 1555;
    private const int ConstraintUnique = 2067;

    private static KilnError Translate(SqliteException e) => e switch
    {
        { SqliteErrorCode: Busy } => KilnError.Unavailable($"the database is busy: {e.Message}"),
        { SqliteExtendedErrorCode: ConstraintPrimaryKey or ConstraintUnique } => new KilnError(StatusCode.AlreadyExists, $"already exists: {e.Message}"),
        { SqliteExtendedErrorCode: ConstraintForeignKey } => new KilnError(StatusCode.NotFound, $"a referenced resource does not exist: {e.Message}"),
        _ => KilnError.Internal($"database error: {e.Message}", e),
    };
}
