using Kiln.Core.Errors;
using Kiln.Store;
using Kiln.Store.Postgres;
using Kiln.Store.Sqlite;

namespace Kiln.Server.Hosting;

/// <summary>
/// Opens the store <c>kiln server</c> was given: PostgreSQL when <c>--store</c> names a database,
/// else SQLite in the data directory. A store that cannot be opened is one line on stderr, not a
/// stack trace.
/// </summary>
internal static class StoreOpener
{
    /// <summary>The open store, or null after printing why it could not be opened.</summary>
    public static IKilnStore? Open(string? connectionString, string sqlitePath)
    {
        try
        {
            return connectionString is null ? SqliteKilnStore.Open(sqlitePath) : PostgresKilnStore.Open(connectionString);
        }
        catch (KilnError e)
        {
            var which = connectionString is null ? $"the SQLite store {sqlitePath}" : "the PostgreSQL store (--store)";
            Console.Error.WriteLine($"kiln server: cannot open {which}: {e.Message}");
            return null;
        }
    }

    /// <summary>Which store this is, for the start-up line (never credentials).</summary>
    public static string Describe(IKilnStore store) => store switch
    {
        PostgresKilnStore pg => $"PostgreSQL {pg.Database}",
        SqliteKilnStore sqlite => $"SQLite {sqlite.Path}",
        _ => store.GetType().Name,
    };

    /// <summary>What is malformed in <paramref name="connectionString"/> (exit code 2, as for any bad flag), or null when it is well formed.</summary>
    public static string? Problem(string connectionString)
    {
        try
        {
            PostgresConnectionString.Parse(connectionString);
            return null;
        }
        catch (KilnError e)
        {
            return e.Message;
        }
    }
}
