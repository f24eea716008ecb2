using Kiln.Core.Errors;
using Kiln.Core.Models;
using Kiln.Core.Names;

namespace Kiln.Store.Tests;

public abstract class DeployedModelTests(StoreBackend backend) : IDisposable
{
    private readonly TempStore _t = new(backend);

    public void Dispose() => _t.Dispose();

    private async Task SeedAsync()
    {
        await _t.SeedDeploymentAsync();
        await _t.Store.CreateModelAsync(new NewModel("acme", "llama", ModelKind.HfBaseModel, "/m/llama.gguf", 1));
        foreach (var id in new[] { "a1", "a2", "a3" })
        {
            await _t.Store.CreateModelAsync(new NewModel("acme", id, ModelKind.HfPeftAddon, $"/m/{id}", 1) { BaseModel = "accounts/acme/models/llama" });
        }
    }

    [StoreFact]
    public async Task Deploy_limit_states_and_serving()
    {
        await SeedAsync();
        var a1 = await _t.Store.CreateDeployedModelAsync(new NewDeployedModel("acme", "dm1", "a1", "d1"), defaultMaxPerDeployment: 2);
        Assert.Equal((DeployedModelState.Deploying, "accounts/acme/deployedModels/dm1"), (a1.State, a1.Name));
        var dup = await Assert.ThrowsAsync<KilnError>(() => _t.Store.CreateDeployedModelAsync(new NewDeployedModel("acme", "dm9", "a1", "d1"), 2));
        Assert.Equal(StatusCode.AlreadyExists, dup.Code);
        await _t.Store.CreateDeployedModelAsync(new NewDeployedModel("acme", "dm2", "a2", "d1"), 2);
        var full = await Assert.ThrowsAsync<KilnError>(() => _t.Store.CreateDeployedModelAsync(new NewDeployedModel("acme", "dm3", "a3", "d1"), 2));
        Assert.Equal(StatusCode.FailedPrecondition, full.Code);
        Assert.Contains("(2)", full.Message);

        Assert.Equal([new DeploymentName("acme", "d1")], await _t.Store.ListDeploymentsServingAsync(new ModelName("acme", "a1")));
        Assert.Equal(StatusCode.FailedPrecondition, (await Assert.ThrowsAsync<KilnError>(() => _t.Store.DeleteModelAsync("acme", "a1"))).Code);
        Assert.Equal(DeployedModelState.Deployed, (await _t.Store.SetDeployedModelStateAsync("acme", "dm1", DeployedModelState.Deployed)).State);
        await _t.Store.SetDeployedModelStateAsync("acme", "dm1", DeployedModelState.Undeploying);
        Assert.Empty(await _t.Store.ListDeploymentsServingAsync(new ModelName("acme", "a1")));
        await Assert.ThrowsAsync<KilnError>(() => _t.Store.SetDeployedModelStateAsync("acme", "dm1", DeployedModelState.Deployed));

        var page = await _t.Store.ListDeployedModelsAsync("acme", new PageRequest(0, null), modelId: "a2");
        Assert.Equal("dm2", Assert.Single(page.Items).Id);
        Assert.Equal(2, (await _t.Store.ListDeployedModelsOnAsync("acme", "d1")).Count);

        // Deleting the deployment takes its addons with it.
        await _t.Store.RequestDeploymentDeletionAsync("acme", "d1");
        Assert.Empty(await _t.Store.ListDeployedModelsOnAsync("acme", "d1"));
        Assert.True(await _t.Store.DeleteModelAsync("acme", "a1"));
    }
}

public sealed class SqliteDeployedModelTests() : DeployedModelTests(StoreBackend.Sqlite);

public sealed class PostgresDeployedModelTests() : DeployedModelTests(StoreBackend.Postgres);
