using Kiln.Core.Deployments;
using Kiln.Store.Postgres;
using Kiln.Store.Sql;
using Kiln.Store.Sqlite;

namespace Kiln.Store.Tests;

/// <summary>The databases the store suite runs against.</summary>
public enum StoreBackend
{
    Sqlite,
    Postgres,
}

/// <summary>
/// A store over a fresh database, deleted on dispose: a SQLite file in a temporary directory, or a
/// database of its own on the test PostgreSQL server.
/// </summary>
public sealed class TempStore : IDisposable
{
    public TempStore(StoreBackend backend = StoreBackend.Sqlite)
    {
        Backend = backend;
        Directory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "kiln-store-tests", Guid.NewGuid().ToString("N"));
        Path = System.IO.Path.Combine(Directory, "kiln.db");
        ConnectionString = backend == StoreBackend.Postgres ? PostgresServer.CreateDatabase() : null;
        Store = OpenAnother();
    }

    public StoreBackend Backend { get; }

    public FakeClock Clock { get; } = new(new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero));

    public string Directory { get; }

    /// <summary>The SQLite file (unused on PostgreSQL).</summary>
    public string Path { get; }

    /// <summary>The PostgreSQL database (null on SQLite).</summary>
    public string? ConnectionString { get; }

    public SqlKilnStore Store { get; private set; }

    /// <summary>The SQLite store (for SQLite-only tests).</summary>
    public SqliteKilnStore Sqlite => (SqliteKilnStore)Store;

    /// <summary>A second store on the same database, as another process would open it.</summary>
    public SqlKilnStore OpenAnother() => Backend == StoreBackend.Postgres
        ? PostgresKilnStore.Open(ConnectionString!, Clock)
        : SqliteKilnStore.Open(Path, Clock);

    /// <summary>Closes and opens the same database again.</summary>
    public SqlKilnStore Reopen()
    {
        Store.Dispose();
        Store = OpenAnother();
        return Store;
    }

    public static DeploymentSpec Spec(string model = "accounts/acme/models/llama", int min = 0, int max = 1) =>
        DeploymentSpecs.Create(new DeploymentSpecPatch { BaseModel = model, MinReplicaCount = min, MaxReplicaCount = max });

    public async Task<DeploymentRecord> SeedDeploymentAsync(string account = "acme", string id = "d1", int desired = 1, int max = 1)
    {
        if (await Store.GetAccountAsync(account) is null)
        {
            await Store.CreateAccountAsync(new NewAccount(account));
        }
        return await Store.CreateDeploymentAsync(new NewDeployment(account, id, Spec($"accounts/{account}/models/llama", max: max), desired));
    }

    /// <summary>A replica record of acme's deployment, started now, as a runtime reports one.</summary>
    public ReplicaRecord Replica(string id, ReplicaPhase phase = ReplicaPhase.Initializing, string deployment = "d1") => new()
    {
        Account = "acme",
        DeploymentId = deployment,
        ReplicaId = id,
        Phase = phase,
        Generation = 1,
        RuntimeHandle = "pid:4242",
        Port = 18080,
        Host = "127.0.0.1",
        StartTime = Clock.UtcNow,
    };

    public void Dispose()
    {
        Store.Dispose();
        if (ConnectionString is not null)
        {
            PostgresServer.DropDatabase(ConnectionString);
        }
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
