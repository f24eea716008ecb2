using Kiln.Store.Sql;
using Kiln.Store.Sqlite;

namespace Kiln.Store.Tests;

/// <summary>Raw access to a store file, for tests that inspect or tamper with it.</summary>
internal static class SqliteDatabaseAccess
{
    public static SqlSession Open(string path) => SqliteConnections.Open(path, TimeSpan.FromSeconds(5));
}
