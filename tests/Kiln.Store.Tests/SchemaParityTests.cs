using Kiln.Store.Postgres;
using Kiln.Store.Sqlite;
using Npgsql;

namespace Kiln.Store.Tests;

/// <summary>
/// SQLite's and PostgreSQL's schema steps reach the same logical schema: a step added to one
/// database's list without its twin in the other fails here.
/// </summary>
public sealed class SchemaParityTests
{
    [Fact]
    public void Every_step_has_its_twin_under_the_same_version_and_description()
    {
        Assert.Equal(
            SchemaMigrations.Steps.Select(s => (s.Version, s.Description)),
            PostgresSchemaSteps.Steps.Select(s => (s.Version, s.Description)));
    }

    [PostgresFact]
    public void Both_databases_have_the_same_tables_columns_and_nullability()
    {
        using var sqlite = new TempStore(StoreBackend.Sqlite);
        using var postgres = new TempStore(StoreBackend.Postgres);
        Assert.Equal(SqliteColumns(sqlite.Path), PostgresColumns(postgres.ConnectionString!));
    }

    private static SortedSet<string> SqliteColumns(string path)
    {
        using var db = SqliteDatabaseAccess.Open(path);
        var tables = db.Query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'", r => r.GetString(0));
        var columns = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var table in tables)
        {
            // pragma table_info: cid, name, type, notnull, default, pk (a key column is never null).
            columns.UnionWith(db.Query($"SELECT name, \"notnull\", pk FROM pragma_table_info('{table}')",
                r => $"{table}.{r.GetString(0)} {(r.GetInt64(1) != 0 || r.GetInt64(2) != 0 ? "NOT NULL" : "NULL")}"));
        }
        return columns;
    }

    private static SortedSet<string> PostgresColumns(string connectionString)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        using var command = new NpgsqlCommand(
            "SELECT table_name, column_name, is_nullable FROM information_schema.columns WHERE table_schema = 'public'", connection);
        using var reader = command.ExecuteReader();
        var columns = new SortedSet<string>(StringComparer.Ordinal);
        while (reader.Read())
        {
            columns.Add($"{reader.GetString(0)}.{reader.GetString(1)} {(reader.GetString(2) == "YES" ? "NULL" : "NOT NULL")}");
        }
        return columns;
    }
}
