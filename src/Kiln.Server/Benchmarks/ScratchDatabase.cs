using Kiln.Store.Postgres;
using Npgsql;

namespace Kiln.Server.Benchmarks;

/// <summary>A PostgreSQL database made for one benchmark run on the server a connection string names, dropped afterwards.</summary>
public sealed class ScratchDatabase : IDisposable
{
    private readonly string _admin;
    private readonly string _name = $"kiln_bench_{Guid.NewGuid():N}";

    /// <summary>Creates the database.</summary>
    public ScratchDatabase(string connectionString)
    {
        var builder = PostgresConnectionString.Parse(connectionString);
        _admin = builder.ToString();
        Execute($"CREATE DATABASE {_name}");
        ConnectionString = new NpgsqlConnectionStringBuilder(_admin) { Database = _name }.ToString();
    }

    /// <summary>Where the run's store goes.</summary>
    public string ConnectionString { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        Execute($"DROP DATABASE IF EXISTS {_name} WITH (FORCE)");
    }

    private void Execute(string sql)
    {
        using var connection = new NpgsqlConnection(_admin);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }
}
