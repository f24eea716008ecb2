using Kiln.Core.Errors;
using Kiln.Core.Time;

namespace Kiln.Store.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in WAL mode, migrated on open.
/// </summary>
/// <remarks>
/// One connection serves the process, guarded by a lock: SQLite admits one writer at a time
/// anyway, and every operation here takes microseconds, so a pool would add contention handling
/// without adding throughput. Every operation runs in its own transaction (IMMEDIATE for writes,
/// so checks and changes are atomic even against other processes sharing the file, which wait up
/// to the busy timeout). The async methods complete synchronously. Times come from the injected
/// clock, truncated to milliseconds.
/// </remarks>
public sealed partial class SqliteKilnStore : IKilnStore
{
    private readonly SqliteDatabase _db;
    private readonly IClock _clock;
    private readonly Lock _gate = new();
    private bool _disposed;

    private SqliteKilnStore(SqliteDatabase db, IClock clock, string path)
    {
        _db = db;
        _clock = clock;
        Path = path;
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    /// <summary>The schema version this build migrates to.</summary>
    public static int LatestSchemaVersion => Migrator.LatestVersion;

    /// <summary>
    /// Opens or creates the database at <paramref name="path"/> and applies pending migrations.
    /// </summary>
    /// <param name="path">The database file; its directory is created if missing.</param>
    /// <param name="clock">Source of timestamps; the system clock by default.</param>
    /// <param name="busyTimeout">How long to wait for another process's write lock (default 5 s).</param>
    public static SqliteKilnStore Open(string path, IClock? clock = null, TimeSpan? busyTimeout = null)
    {
        var full = System.IO.Path.GetFullPath(path);
        var dir = System.IO.Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(dir))
        {
            Directory.CreateDirectory(dir);
        }
        clock ??= SystemClock.Instance;
        SqliteDatabase db;
        try
        {
            db = SqliteDatabase.Open(full, busyTimeout ?? TimeSpan.FromSeconds(5));
        }
        catch (SqliteException e)
        {
            throw Translate(e);
        }
        try
        {
            Migrator.Migrate(db, Columns.Time(clock.UtcNow));
        }
        catch (Exception e)
        {
            db.Dispose();
            throw e is SqliteException s ? Translate(s) : e;
        }
        return new SqliteKilnStore(db, clock, full);
    }

    /// <summary>The schema version recorded in the database.</summary>
    public long SchemaVersion()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return Migrator.CurrentVersion(_db);
        }
    }

    /// <summary>Closes the connection.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (!_disposed)
            {
                _disposed = true;
                _db.Dispose();
            }
        }
    }

    private Task<T> Read<T>(CancellationToken ct, Func<SqliteDatabase, T> body) => Run(false, ct, (db, _) => body(db));

    private Task<T> Write<T>(CancellationToken ct, Func<SqliteDatabase, DateTimeOffset, T> body) => Run(true, ct, body);

    private Task<T> Run<T>(bool write, CancellationToken ct, Func<SqliteDatabase, DateTimeOffset, T> body)
    {
        if (ct.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(ct);
        }
        try
        {
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                using var tx = _db.Begin(write);
                var result = body(_db, Columns.Truncate(_clock.UtcNow));
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

    private static KilnError Translate(SqliteException e) => e switch
    {
        { IsBusy: true } => KilnError.Unavailable($"the database is busy: {e.Message}"),
        { IsDuplicate: true } => new KilnError(StatusCode.AlreadyExists, $"already exists: {e.Message}"),
        { IsForeignKey: true } => new KilnError(StatusCode.NotFound, $"a referenced resource does not exist: {e.Message}"),
        _ => KilnError.Internal($"database error: {e.Message}", e),
    };

    private static Page<T> ListPage<T>(
        SqliteDatabase db, string scope, PageRequest page, string columns, string table, string where,
        object?[] args, string key, Func<SqliteRow, T> map, Func<T, string> keyOf)
    {
        var size = page.EffectiveSize;
        var after = PageTokens.Decode(scope, page.PageToken);
        var total = (int)db.Scalar($"SELECT COUNT(*) FROM {table} WHERE {where}", args);
        var sql = $"SELECT {columns} FROM {table} WHERE {where}{(after is null ? "" : $" AND {key} > ?")} ORDER BY {key} LIMIT ?";
        object?[] queryArgs = after is null ? [.. args, size + 1] : [.. args, after, size + 1];
        var rows = db.Query(sql, map, queryArgs);
        string? next = null;
        if (rows.Count > size)
        {
            rows.RemoveAt(size);
            next = PageTokens.Encode(scope, keyOf(rows[^1]));
        }
        return new Page<T>(rows, next, total);
    }
}
