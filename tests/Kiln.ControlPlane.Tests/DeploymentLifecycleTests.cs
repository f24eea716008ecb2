using System.Net;

namespace Kiln.ControlPlane.Tests;

public class DeploymentLifecycleTests
{
    private const string Path = "/v1/accounts/default/deployments/web";

    [SharedFact]
    public async Task A_starting_replica_is_seen_ready_without_waiting_for_the_next_pass()
    {
        // An hour between passes: after the pass that starts the replica, only the probes of starting
        // replicas between passes can see it turn ready (and bring the next pass forward).
        using var server = await KilnServer.StartAsync("--reconcile-interval", "1h");
        using var api = new Api(server.BaseUri, server.AdminKey);
        Assert.Equal("READY", (await Steps.ImportAsync(api, "default", "stories", TestModels.Stories260K())).State());
        var created = await api.PostAsync("/v1/accounts/default/deployments?deploymentId=web", new { baseModel = "accounts/default/models/stories" });
        Assert.True(created.Status == HttpStatusCode.OK, created.ToString());
        var ready = await Steps.WaitForAsync(api, Path, r => r.State() == "READY" && r.ReadyReplicas().Count == 1, "READY");
        Assert.True(ready.HasEvent("ReplicaReady"), ready.ToString());
    }

    [SharedFact]
    public async Task Create_scale_survive_crashes_and_delete()
    {
        using var server = await KilnServer.StartAsync();
        using var api = new Api(server.BaseUri, server.AdminKey);
        Assert.Equal("READY", (await Steps.ImportAsync(api, "default", "stories", TestModels.Stories260K())).State());

        // Create: CREATING, then READY with one replica serving the model under its full name.
        var created = await api.PostAsync("/v1/accounts/default/deployments?deploymentId=web", new { baseModel = "accounts/default/models/stories" });
        Assert.True(created.Status == HttpStatusCode.OK, created.ToString());
        Assert.Equal("CREATING", created.State());
        Assert.Equal(1, created.Int("desiredReplicaCount"));
        Assert.Equal("600s", created.Body.GetProperty("autoscalingPolicy").GetProperty("scaleDownWindow").GetString());
        // While the deployment is still CREATING its model reads DEPLOYING, not DEPLOYED. (The state
        // only moves forward, so CREATING after the model's read means CREATING during it.)
        var early = await api.GetAsync("/v1/accounts/default/models/stories");
        if ((await api.GetAsync(Path)).State() == "CREATING")
        {
            Assert.Equal("DEPLOYING", early.State());
        }
        var ready = await Steps.WaitForAsync(api, Path, r => r.State() == "READY", "READY");
        Assert.Equal(1, ready.Int("replicaCount"));
        var (firstId, firstPid, firstPort) = Assert.Single(ready.ReadyReplicas());
        Assert.Contains("accounts/default/models/stories", await Steps.ReplicaModelsAsync(firstPort));
        Assert.True(ready.HasEvent("ReplicaStarted") && ready.HasEvent("ReplicaReady"), ready.ToString());

        var model = await api.GetAsync("/v1/accounts/default/models/stories");
        Assert.Equal("DEPLOYED", model.State());
        Assert.Equal("accounts/default/deployments/web", model.Body.GetProperty("deployedModelRefs")[0].GetProperty("deployment").GetString());
        var refused = await api.DeleteAsync("/v1/accounts/default/models/stories");
        Assert.Equal(HttpStatusCode.Conflict, refused.Status);
        Assert.Equal("FAILED_PRECONDITION", refused.Code);

        // Scale up: min 2 max 3 clamps the desired count to 2.
        var patched = await api.PatchAsync(Path, new { minReplicaCount = 2, maxReplicaCount = 3 });
        Assert.True(patched.Status == HttpStatusCode.OK, patched.ToString());
        Assert.Equal(2, patched.Int("desiredReplicaCount"));
        var two = await Steps.WaitForAsync(api, Path, r => r.ReadyReplicas().Count == 2 && r.State() == "READY", "two ready replicas");
        Assert.Contains(two.ReadyReplicas(), r => r.Pid == firstPid);

        // Scale down: max 1 leaves one replica; the other process goes away.
        await api.PatchAsync(Path, new { minReplicaCount = 0, maxReplicaCount = 1 });
        var one = await Steps.WaitForAsync(api, Path,
            r => r.ReadyReplicas().Count == 1 && r.Body.GetProperty("replicas").GetArrayLength() == 1 && r.State() == "READY", "one replica");
        var stoppedPids = two.ReadyReplicas().Select(r => r.Pid).Except(one.ReadyReplicas().Select(r => r.Pid)).ToList();
        Assert.Single(stoppedPids);
        await Wait.UntilAsync(() => !Processes.IsAlive(stoppedPids[0]), Steps.Timeout, "the scaled-down replica to exit");

        // A replica that dies is replaced.
        var (_, victimPid, _) = Assert.Single(one.ReadyReplicas());
        Processes.Kill(victimPid);
        var replaced = await Steps.WaitForAsync(api, Path,
            r => r.ReadyReplicas() is [var x] && x.Pid != victimPid, "a replacement replica");
        Assert.True(replaced.HasEvent("ReplicaExited"), replaced.ToString());
        var (_, survivorPid, survivorPort) = replaced.ReadyReplicas()[0];

        // kill -9 of the server: the replica keeps serving and is adopted by the next server.
        server.Crash();
        Assert.True(Processes.IsAlive(survivorPid));
        await server.RestartAsync();
        var adopted = await Steps.WaitForAsync(api, Path, r => r.HasEvent("ReplicaAdopted") && r.State() == "READY", "adoption");
        Assert.Equal(survivorPid, Assert.Single(adopted.ReadyReplicas()).Pid);
        Assert.Contains("stories", await Steps.ReplicaModelsAsync(survivorPort));
        Assert.Equal([survivorPid], server.ReplicaProcesses());

        // Delete: DELETING, then DELETED with no replica process left.
        var deleting = await api.DeleteAsync(Path);
        Assert.True(deleting.Status == HttpStatusCode.OK, deleting.ToString());
        Assert.Contains(deleting.State(), new[] { "DELETING", "DELETED" });
        await Steps.WaitForAsync(api, Path, r => r.State() == "DELETED", "DELETED");
        Assert.Empty(server.ReplicaProcesses());
        Assert.Equal(0, (await api.GetAsync("/v1/accounts/default/deployments")).Int("totalSize"));
        Assert.Equal(1, (await api.GetAsync("/v1/accounts/default/deployments?showDeleted=true")).Int("totalSize"));
        Assert.Equal("READY", (await api.GetAsync("/v1/accounts/default/models/stories")).State());
    }

    [SharedFact]
    public async Task A_crash_while_replicas_start_leaves_no_orphans_and_a_clean_stop_stops_replicas()
    {
        using var server = await KilnServer.StartAsync();
        using var api = new Api(server.BaseUri, server.AdminKey);
        await Steps.ImportAsync(api, "default", "stories", TestModels.Stories260K());
        await api.PostAsync("/v1/accounts/default/deployments?deploymentId=web",
            new { baseModel = "accounts/default/models/stories", minReplicaCount = 3 });
        await Wait.UntilAsync(() => server.ReplicaProcesses().Count >= 1, Steps.Timeout, "a replica process");
        server.Crash();
        await server.RestartAsync();

        var ready = await Steps.WaitForAsync(api, Path, r => r.ReadyReplicas().Count == 3, "three ready replicas");
        var pids = ready.ReadyReplicas().Select(r => r.Pid).Order().ToList();
        await Wait.UntilAsync(() => server.ReplicaProcesses().Order().SequenceEqual(pids), Steps.Timeout, "exactly the recorded replica processes");

        await server.StopAsync();
        Assert.Empty(server.ReplicaProcesses());
        await server.RestartAsync();
        await Steps.WaitForAsync(api, Path, r => r.ReadyReplicas().Count == 3 && r.State() == "READY", "replicas back after a clean restart");
    }
}
