using SQLitePCL;

namespace Kiln.Store.Sqlite;

/// <summary>
/// A thin, safe wrapper over one SQLite connection (SQLitePCL.raw): parameterised statements,
/// typed rows and transactions. Not thread-safe; the owner serialises access.
/// </summary>
/// <remarks>
/// Parameters are positional (<c>?</c>) and bound from CLR values: null, string, bool (0/1), int,
/// long, double and byte[]. Every statement is finalised before the call returns, so no native
/// handle outlives a method.
/// </remarks>
internal sealed class SqliteDatabase : IDisposable
{
    private readonly sqlite3 _db;

    static SqliteDatabase() => Batteries_V2.Init();

    private SqliteDatabase(sqlite3 db) => _db = db;

    /// <summary>Opens (creating if needed) the database file with WAL, foreign keys, full sync and a busy timeout.</summary>
    public static SqliteDatabase Open(string path, TimeSpan busyTimeout)
    {
        var flags = raw.SQLITE_OPEN_READWRITE | raw.SQLITE_OPEN_CREATE | raw.SQLITE_OPEN_NOMUTEX;
        var rc = raw.sqlite3_open_v2(path, out var handle, flags, null);
        if (rc != raw.SQLITE_OK)
        {
            var message = handle is null ? $"cannot open {path}" : raw.sqlite3_errmsg(handle).utf8_to_string();
            handle?.Dispose();
            throw new SqliteException(rc, rc, $"cannot open database {path}: {message}");
        }
        var db = new SqliteDatabase(handle);
        try
        {
            raw.sqlite3_extended_result_codes(handle, 1);
            raw.sqlite3_busy_timeout(handle, (int)busyTimeout.TotalMilliseconds);
            var mode = db.QuerySingle("PRAGMA journal_mode=WAL", r => r.GetString(0));
            if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            {
                throw new SqliteException(1, 1, $"cannot enable WAL on {path} (journal_mode is {mode})");
            }
            db.Execute("PRAGMA foreign_keys=ON");
            // FULL: a committed change survives power loss, not just a process crash.
            db.Execute("PRAGMA synchronous=FULL");
            return db;
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    /// <summary>Runs one statement; returns the number of rows it changed.</summary>
    public int Execute(string sql, params object?[] args)
    {
        using var stmt = Prepare(sql, args);
        int rc;
        while ((rc = raw.sqlite3_step(stmt)) == raw.SQLITE_ROW)
        {
            // Statements such as PRAGMA may return rows that the caller does not want.
        }
        Check(rc, raw.SQLITE_DONE);
        return raw.sqlite3_changes(_db);
    }

    /// <summary>Runs a script of several statements without parameters (migrations).</summary>
    public void ExecuteScript(string sql)
    {
        var rest = sql;
        while (!string.IsNullOrWhiteSpace(rest))
        {
            Check(raw.sqlite3_prepare_v2(_db, rest, out var stmt, out var tail), raw.SQLITE_OK);
            using (stmt)
            {
                if (stmt is not null && !stmt.IsInvalid)
                {
                    int rc;
                    while ((rc = raw.sqlite3_step(stmt)) == raw.SQLITE_ROW)
                    {
                    }
                    Check(rc, raw.SQLITE_DONE);
                }
            }
            rest = tail;
        }
    }

    /// <summary>Runs a query and maps every row.</summary>
    public List<T> Query<T>(string sql, Func<SqliteRow, T> map, params object?[] args)
    {
        using var stmt = Prepare(sql, args);
        var rows = new List<T>();
        int rc;
        while ((rc = raw.sqlite3_step(stmt)) == raw.SQLITE_ROW)
        {
            rows.Add(map(new SqliteRow(stmt)));
        }
        Check(rc, raw.SQLITE_DONE);
        return rows;
    }

    /// <summary>The first row mapped, or default when there is none.</summary>
    public T? QuerySingle<T>(string sql, Func<SqliteRow, T> map, params object?[] args)
    {
        using var stmt = Prepare(sql, args);
        var rc = raw.sqlite3_step(stmt);
        if (rc == raw.SQLITE_DONE)
        {
            return default;
        }
        Check(rc, raw.SQLITE_ROW);
        return map(new SqliteRow(stmt));
    }

    /// <summary>The first column of the first row as a long (0 when there is no row).</summary>
    public long Scalar(string sql, params object?[] args) => QuerySingle(sql, r => r.GetInt64(0), args);

    /// <summary>
    /// Begins a transaction. IMMEDIATE takes the write lock up front, so two writers never
    /// deadlock upgrading read locks; the busy timeout makes the second one wait.
    /// </summary>
    public SqliteTransaction Begin(bool write = true)
    {
        Execute(write ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
        return new SqliteTransaction(this);
    }

    internal void TryRollback()
    {
        if (raw.sqlite3_get_autocommit(_db) == 0)
        {
            raw.sqlite3_exec(_db, "ROLLBACK");
        }
    }

    public void Dispose() => _db.Dispose();

    private sqlite3_stmt Prepare(string sql, object?[] args)
    {
        Check(raw.sqlite3_prepare_v2(_db, sql, out var stmt), raw.SQLITE_OK);
        try
        {
            var expected = raw.sqlite3_bind_parameter_count(stmt);
            if (expected != args.Length)
            {
                throw new ArgumentException($"statement takes {expected} parameters, got {args.Length}: {sql}");
            }
            for (var i = 0; i < args.Length; i++)
            {
                Bind(stmt, i + 1, args[i]);
            }
            return stmt;
        }
        catch
        {
            stmt.Dispose();
            throw;
        }
    }

    private void Bind(sqlite3_stmt stmt, int index, object? value)
    {
        var rc = value switch
        {
            null => raw.sqlite3_bind_null(stmt, index),
            string s => raw.sqlite3_bind_text(stmt, index, s),
            bool b => raw.sqlite3_bind_int64(stmt, index, b ? 1 : 0),
            int n => raw.sqlite3_bind_int64(stmt, index, n),
            long n => raw.sqlite3_bind_int64(stmt, index, n),
            double d => raw.sqlite3_bind_double(stmt, index, d),
            byte[] bytes => raw.sqlite3_bind_blob(stmt, index, bytes),
            _ => throw new ArgumentException($"cannot bind a {value.GetType().Name} to parameter {index}"),
        };
        Check(rc, raw.SQLITE_OK);
    }

    private void Check(int rc, int expected)
    {
        if (rc != expected)
        {
            throw new SqliteException(rc & 0xff, raw.sqlite3_extended_errcode(_db), raw.sqlite3_errmsg(_db).utf8_to_string());
        }
    }
}
