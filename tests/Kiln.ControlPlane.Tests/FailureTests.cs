using System.Net;

namespace Kiln.ControlPlane.Tests;

public class FailureTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_model_that_cannot_load_fails_the_deployment_with_the_replica_error(bool replicaExits)
    {
        // Both the real replica and the stand-in exit with the load error on stderr; the deployment
        // fails after three attempts with that error as the reason.
        using var server = replicaExits ? await KilnServer.StartWithFakeReplicaAsync() : await KilnServer.StartAsync();
        using var api = new Api(server.BaseUri, server.AdminKey);
        // Import refuses what cannot load, so the stored file is damaged afterwards: still a GGUF of
        // a served architecture, but without weights.
        Assert.Equal("READY", (await Steps.ImportAsync(api, "default", "hollow", TestModels.Tiny())).State());
        File.WriteAllBytes(Path.Combine(server.DataDir, "models", "default", "hollow.gguf"), TestModels.Hollow("llama"));
        await api.PostAsync("/v1/accounts/default/deployments?deploymentId=broken", new { baseModel = "hollow" });

        var failed = await Steps.WaitForAsync(api, "/v1/accounts/default/deployments/broken", r => r.State() == "FAILED", "FAILED");
        var message = failed.Body.GetProperty("status").GetProperty("message").GetString()!;
        // The replica's own words: the real one misses a hyperparameter first, the stand-in a tensor.
        Assert.Contains(replicaExits ? "tensor token_embd.weight is missing" : "llama.embedding_length", message);
        Assert.Contains("3 times", message);
        // The last attempt's process is gone.
        await Wait.UntilAsync(() => server.ReplicaProcesses().Count == 0, Steps.Timeout, "no replica process");

        // It stays FAILED instead of restarting forever.
        await Task.Delay(1500);
        var still = await api.GetAsync("/v1/accounts/default/deployments/broken");
        Assert.Equal("FAILED", still.State());
        Assert.Equal(3, still.Body.GetProperty("events").EnumerateArray().Count(e => e.GetProperty("type").GetString() == "ReplicaStarted"));
    }

    [SharedFact]
    public async Task A_deployment_that_does_not_fit_says_so()
    {
        using var server = await KilnServer.StartAsync("--cpu-slots", "1");
        using var api = new Api(server.BaseUri, server.AdminKey);
        await Steps.ImportAsync(api, "default", "stories", TestModels.Stories260K());
        // Larger than the node: refused at once.
        var big = await api.PostAsync("/v1/accounts/default/deployments?deploymentId=big",
            new { baseModel = "accounts/default/models/stories", acceleratorCount = 2 });
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, big.Status);
        Assert.Contains("no node holds 2 x CPU (at most 1 on one node); available: local: 1 x CPU", big.Message);

        // Two replicas of one slot on a one-slot node: one serves, the other waits and says why.
        await api.PostAsync("/v1/accounts/default/deployments?deploymentId=two",
            new { baseModel = "accounts/default/models/stories", minReplicaCount = 2 });
        var waiting = await Steps.WaitForAsync(api, "/v1/accounts/default/deployments/two",
            r => r.Body.GetProperty("status").GetProperty("message").GetString()!.Contains("insufficient accelerators") && r.ReadyReplicas().Count == 1, "the capacity message");
        // It serves with the one replica that fits: not FAILED, and the status says what is missing.
        Assert.Equal("READY", waiting.State());
        Assert.Equal("RESOURCE_EXHAUSTED", waiting.Body.GetProperty("status").GetProperty("code").GetString());
        Assert.Contains("needs 1 CPU slot(s) per replica, 0 of 1 free", waiting.Body.GetProperty("status").GetProperty("message").GetString());
        Assert.Equal(1, waiting.Body.GetProperty("replicaStats").GetProperty("pendingSchedulingReplicaCount").GetInt32());
        Assert.Single(server.ReplicaProcesses());
    }
}
