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

    [StoreFact]
    public async Task All_deployed_models_in_one_read_match_each_deployments_own()
    {
        await SeedAsync();
        await _t.SeedDeploymentAsync(id: "d2");
        await _t.SeedDeploymentAsync(id: "d3");
        await _t.SeedDeploymentAsync(account: "beta", id: "d1");
        await _t.Store.CreateModelAsync(new NewModel("beta", "llama", ModelKind.HfBaseModel, "/m/llama.gguf", 1));
        await _t.Store.CreateModelAsync(new NewModel("beta", "b1", ModelKind.HfPeftAddon, "/m/b1", 1) { BaseModel = "accounts/beta/models/llama" });
        Assert.Empty(await _t.Store.ListAllDeployedModelsAsync());

        await _t.Store.CreateDeployedModelAsync(new NewDeployedModel("acme", "dm2", "a2", "d2"), 4);
        await _t.Store.CreateDeployedModelAsync(new NewDeployedModel("acme", "dm1", "a1", "d2"), 4);
        await _t.Store.CreateDeployedModelAsync(new NewDeployedModel("acme", "dm3", "a3", "d1"), 4);
        await _t.Store.CreateDeployedModelAsync(new NewDeployedModel("beta", "dm1", "b1", "d1"), 4);
        await _t.Store.SetDeployedModelStateAsync("acme", "dm1", DeployedModelState.Deployed);
        await _t.Store.SetDeployedModelStateAsync("acme", "dm2", DeployedModelState.Undeploying);
        await _t.Store.SetDeployedModelStatusAsync("beta", "dm1", new DeploymentStatus(StatusCode.FailedPrecondition, "refused"));

        var all = await _t.Store.ListAllDeployedModelsAsync();
        // Every state, every account, ordered by account, deployment, ID; each record as a deployment's own read gives it.
        Assert.Equal(["acme/d1/dm3", "acme/d2/dm1", "acme/d2/dm2", "beta/d1/dm1"], all.Select(m => $"{m.Account}/{m.DeploymentId}/{m.Id}"));
        var each = new List<DeployedModelRecord>();
        foreach (var (account, deployment) in new[] { ("acme", "d1"), ("acme", "d2"), ("acme", "d3"), ("beta", "d1") })
        {
            each.AddRange(await _t.Store.ListDeployedModelsOnAsync(account, deployment));
        }
        Assert.Equal(each, all);
        Assert.Equal([DeployedModelState.Deploying, DeployedModelState.Deployed, DeployedModelState.Undeploying, DeployedModelState.Deploying], all.Select(m => m.State));
        Assert.Equal("refused", all[3].Status?.Message);

        await _t.Store.DeleteDeployedModelAsync("acme", "dm2");
        await _t.Store.RequestDeploymentDeletionAsync("acme", "d1");
        Assert.Equal(["acme/d2/dm1", "beta/d1/dm1"], (await _t.Store.ListAllDeployedModelsAsync()).Select(m => $"{m.Account}/{m.DeploymentId}/{m.Id}"));
    }
}

public sealed class SqliteDeployedModelTests() : DeployedModelTests(StoreBackend.Sqlite);

public sealed class PostgresDeployedModelTests() : DeployedModelTests(StoreBackend.Postgres);
