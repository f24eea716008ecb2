using Kiln.Core.Deployments;
using Kiln.Core.Time;
using Kiln.Store.Sqlite;

namespace Kiln.Store.Tests;

/// <summary>A store in a fresh temporary directory, deleted on dispose.</summary>
public sealed class TempStore : IDisposable
{
    public TempStore()
    {
        Directory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "kiln-store-tests", Guid.NewGuid().ToString("N"));
        Path = System.IO.Path.Combine(Directory, "kiln.db");
        Store = SqliteKilnStore.Open(Path, Clock);
    }

    public FakeClock Clock { get; } = new(new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero));

    public string Directory { get; }

    public string Path { get; }

    public SqliteKilnStore Store { get; private set; }

    /// <summary>Closes and opens the same file again.</summary>
    public SqliteKilnStore Reopen()
    {
        Store.Dispose();
        Store = SqliteKilnStore.Open(Path, Clock);
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

    public void Dispose()
    {
        Store.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
