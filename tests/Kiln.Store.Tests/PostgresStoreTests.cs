using Kiln.Core.Errors;
using Kiln.Store.Postgres;
using Npgsql;

namespace Kiln.Store.Tests;

/// <summary>What only the PostgreSQL store has to get right: migrations by several servers at once, and an unreachable database.</summary>
public sealed class PostgresStoreTests
{
    [PostgresFact]
    public async Task Stores_opening_one_empty_database_at_once_apply_each_step_once()
    {
        var database = PostgresServer.CreateDatabase();
        try
        {
            using var start = new Barrier(4);
            var opened = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
            {
                start.SignalAndWait();
                return PostgresKilnStore.Open(database);
            })));
            try
            {
                Assert.All(opened, s => Assert.Equal(PostgresKilnStore.LatestSchemaVersion, s.SchemaVersion()));
                using var connection = new NpgsqlConnection(database);
                connection.Open();
                using var steps = new NpgsqlCommand("SELECT COUNT(*), COUNT(DISTINCT version), MAX(version) FROM schema_version", connection);
                using var reader = steps.ExecuteReader();
                reader.Read();
                Assert.Equal((PostgresKilnStore.LatestSchemaVersion, PostgresKilnStore.LatestSchemaVersion, PostgresKilnStore.LatestSchemaVersion),
                    ((int)reader.GetInt64(0), (int)reader.GetInt64(1), (int)reader.GetInt64(2)));
                // Every store works on the one schema.
                await opened[0].CreateAccountAsync(new NewAccount("acme"));
                Assert.NotNull(await opened[3].GetAccountAsync("acme"));
            }
            finally
            {
                foreach (var s in opened)
                {
                    s.Dispose();
                }
            }
        }
        finally
        {
            PostgresServer.DropDatabase(database);
        }
    }

    [PostgresFact]
    public void A_newer_schema_than_this_build_knows_is_refused()
    {
        var database = PostgresServer.CreateDatabase();
        try
        {
            PostgresKilnStore.Open(database).Dispose();
            using (var connection = new NpgsqlConnection(database))
            {
                connection.Open();
                using var newer = new NpgsqlCommand("INSERT INTO schema_version VALUES (10000, 'from the future', 0)", connection);
                newer.ExecuteNonQuery();
            }
            var e = Assert.Throws<KilnError>(() => PostgresKilnStore.Open(database));
            Assert.Equal(StatusCode.FailedPrecondition, e.Code);
            Assert.Contains("upgrade Kiln", e.Message);
        }
        finally
        {
            PostgresServer.DropDatabase(database);
        }
    }

    [Fact]
    public void An_unreachable_database_is_unavailable_naming_where()
    {
        var port = FreeTcpPort();
        var e = Assert.Throws<KilnError>(() => PostgresKilnStore.Open($"Host=127.0.0.1;Port={port};Username=kiln;Database=kiln;Timeout=5"));
        Assert.Equal(StatusCode.Unavailable, e.Code);
        Assert.Contains($"127.0.0.1:{port}/kiln", e.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Hots=db")]
    [InlineData("Host=db;Port=notanumber")]
    [InlineData("Username=kiln;Database=kiln")]
    [InlineData("postgres://")]
    [InlineData("postgres://db:99999/kiln")]
    public void A_malformed_value_is_an_invalid_argument(string value)
    {
        var e = Assert.Throws<KilnError>(() => PostgresKilnStore.Open(value));
        Assert.Equal(StatusCode.InvalidArgument, e.Code);
    }

    [Fact]
    public void A_url_reads_as_the_connection_string_it_stands_for()
    {
        var b = PostgresConnectionString.Parse("postgresql://kiln:p%40ss@db.example:6543/prod?Timeout=7&SSL%20Mode=Disable");
        Assert.Equal(("db.example", 6543, "kiln", "p@ss", "prod", 7, SslMode.Disable), (b.Host, b.Port, b.Username, b.Password, b.Database, b.Timeout, b.SslMode));
        var defaults = PostgresConnectionString.Parse("postgres://db/kiln");
        Assert.Equal(("db", 5432, "kiln"), (defaults.Host, defaults.Port, defaults.Database));
        Assert.Equal("db:5432/kiln", PostgresConnectionString.Describe(defaults));
    }

    private static int FreeTcpPort()
    {
        using var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        return ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
    }
}
