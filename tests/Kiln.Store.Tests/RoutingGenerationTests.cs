using Kiln.Core.Deployments;
using Kiln.Core.Models;

namespace Kiln.Store.Tests;

public abstract class RoutingGenerationTests(StoreBackend backend) : IDisposable
{
    private readonly TempStore _t = new(backend);

    public void Dispose() => _t.Dispose();

    private ReplicaRecord Replica(string id, ReplicaPhase phase = ReplicaPhase.Initializing, string deployment = "d1") => _t.Replica(id, phase, deployment);

    // Runs a write and says whether it moved the routing generation.
    private async Task<bool> MovesAsync(Func<Task> write)
    {
        var before = await _t.Store.GetRoutingGenerationAsync();
        await write();
        var after = await _t.Store.GetRoutingGenerationAsync();
        Assert.True(after >= before, $"the generation went back from {before} to {after}");
        return after != before;
    }

    [StoreFact]
    public async Task Every_change_the_gateway_routes_by_moves_it_and_nothing_else_does()
    {
        Assert.True(await MovesAsync(() => _t.SeedDeploymentAsync(desired: 1, max: 3)));
        Assert.True(await MovesAsync(() => _t.Store.SetDesiredReplicaCountAsync("acme", "d1", 2)));
        Assert.False(await MovesAsync(() => _t.Store.SetDesiredReplicaCountAsync("acme", "d1", 2)));
        var ready = new DeploymentStatusUpdate(DeploymentState.Ready, DeploymentStatus.Ok, 1);
        Assert.True(await MovesAsync(() => _t.Store.UpdateDeploymentStatusAsync("acme", "d1", ready)));
        Assert.False(await MovesAsync(() => _t.Store.UpdateDeploymentStatusAsync("acme", "d1", ready)));

        // The gateway's own bookkeeping and other tables leave it alone.
        Assert.False(await MovesAsync(() => _t.Store.RecordRequestUsageAsync(
            [new RequestUsage("acme", "k1", "d1", "accounts/acme/models/llama", _t.Clock.UtcNow, 1, 10, 20)],
            [new LastRequest("acme", "d1", _t.Clock.UtcNow)])));
        Assert.False(await MovesAsync(() => _t.Store.AppendEventAsync("acme", "d1", "Note", "nothing routable")));

        // Replicas: added, a new phase or address, removed; a rewrite of the same place does not.
        Assert.True(await MovesAsync(() => _t.Store.UpsertReplicaAsync(Replica("r1", ReplicaPhase.Initializing))));
        Assert.False(await MovesAsync(() => _t.Store.UpsertReplicaAsync(Replica("r1", ReplicaPhase.Initializing) with { FailureCount = 1, LastError = "slow" })));
        Assert.True(await MovesAsync(() => _t.Store.UpsertReplicaAsync(Replica("r1", ReplicaPhase.Ready))));
        Assert.True(await MovesAsync(() => _t.Store.UpsertReplicaAsync(Replica("r1", ReplicaPhase.Ready) with { Port = 18081 })));
        Assert.True(await MovesAsync(() => _t.Store.UpsertReplicaAsync(Replica("r1", ReplicaPhase.Ready) with { Port = 18081, Host = "10.0.0.7" })));
        Assert.True(await MovesAsync(() => _t.Store.DeleteReplicaAsync("acme", "d1", "r1")));

        // Deployed models: every change.
        await _t.Store.CreateModelAsync(new NewModel("acme", "llama", ModelKind.HfBaseModel, "/m/llama.gguf", 1));
        await _t.Store.CreateModelAsync(new NewModel("acme", "a1", ModelKind.HfPeftAddon, "/m/a1", 1) { BaseModel = "accounts/acme/models/llama" });
        Assert.True(await MovesAsync(() => _t.Store.CreateDeployedModelAsync(new NewDeployedModel("acme", "dm1", "a1", "d1"), 2)));
        Assert.True(await MovesAsync(() => _t.Store.SetDeployedModelStateAsync("acme", "dm1", DeployedModelState.Deployed)));
        Assert.True(await MovesAsync(() => _t.Store.SetDeployedModelStatusAsync("acme", "dm1", new DeploymentStatus(Kiln.Core.Errors.StatusCode.FailedPrecondition, "no fit"))));
        Assert.True(await MovesAsync(() => _t.Store.DeleteDeployedModelAsync("acme", "dm1")));

        Assert.True(await MovesAsync(() => _t.Store.UpsertReplicaAsync(Replica("r2", ReplicaPhase.Ready))));
        Assert.True(await MovesAsync(() => _t.Store.PurgeDeploymentAsync("acme", "d1")));
    }

    [StoreFact]
    public async Task It_is_kept_across_reopening()
    {
        await _t.SeedDeploymentAsync();
        var seen = await _t.Store.GetRoutingGenerationAsync();
        Assert.True(seen > 0);
        Assert.Equal(seen, await _t.Reopen().GetRoutingGenerationAsync());
    }
}

public sealed class SqliteRoutingGenerationTests() : RoutingGenerationTests(StoreBackend.Sqlite);

public sealed class PostgresRoutingGenerationTests() : RoutingGenerationTests(StoreBackend.Postgres);
