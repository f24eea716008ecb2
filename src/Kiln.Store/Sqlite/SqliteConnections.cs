using Kiln.Core.Errors;
using Kiln.Store.Sql;
using Microsoft.Data.Sqlite;

namespace Kiln.Store.Sqlite;

/// <summary>Opens SQLite connections (Microsoft.Data.Sqlite) set up the way the store relies on.</summary>
internal static class SqliteConnections
{
    /// <summary>
    /// Opens (creating if needed) the database file with WAL, foreign keys, full sync and a busy
    /// timeout. A <paramref name="readOnly"/> session refuses writes (query_only).
    /// </summary>
    public static SqlSession Open(string path, TimeSpan busyTimeout, bool readOnly = false)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            // The store keeps its connections open for its lifetime; closing must really close.
            Pooling = false,
            // Microsoft.Data.Sqlite retries BUSY itself until the command timeout: let SQLite's own
            // busy handler do the waiting, and give up once it has.
            DefaultTimeout = Math.Max(1, (int)Math.Ceiling(busyTimeout.TotalSeconds)),
        }.ToString());
        var session = new SqlSession(connection, (c, write) => ((SqliteConnection)c).BeginTransaction(deferred: !write), parameterPrefix: "@");
        try
        {
            connection.Open();
            session.Execute($"PRAGMA busy_timeout = {(long)busyTimeout.TotalMilliseconds}");
            var mode = session.QuerySingle("PRAGMA journal_mode = WAL", r => r.GetString(0));
            if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            {
                throw KilnError.Internal($"cannot enable WAL on {path} (journal_mode is {mode})");
            }
            session.Execute("PRAGMA foreign_keys = ON");
            // FULL: a committed change survives power loss, not just a process crash.
            session.Execute("PRAGMA synchronous = FULL");
            if (readOnly)
            {
                session.Execute("PRAGMA query_only = ON");
            }
            return session;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }
}
