using System.Text.Json.Nodes;
using static Kiln.ControlPlane.Tests.AddonFixtures;

namespace Kiln.ControlPlane.Tests;

/// <summary>
/// Two addons and their base on one deployment of real replicas: deployed without restarts, each
/// answering with its own adapter under concurrent streams, on replicas started later too, and
/// undeployed under traffic without losing a request.
/// </summary>
public class AddonServingTests
{
    private const string Base = "accounts/default/models/stories";
    private const string Qv = "accounts/default/models/qv";
    private const string All = "accounts/default/models/all";
    private const string Prompt = "Once upon a time";

    private static async Task<List<(int Pid, int Port)>> ReadyReplicasAsync(Kilnctl ctl)
    {
        var d = JsonNode.Parse(await ctl.OkAsync("get", "deployment", "tales", "-o", "json"))!;
        return [.. d["replicas"]!.AsArray().Where(r => (string?)r!["phase"] == "READY").Select(r => ((int)r!["pid"]!, (int)r!["port"]!))];
    }

    [SharedFact]
    public async Task Two_addons_and_the_base_share_a_deployment()
    {
        using var server = await KilnServer.StartAsync();
        var ctl = new Kilnctl(server.BaseUri, server.AdminKey, Kilnctl.NewConfigDir());
        await ctl.OkAsync("import", "model", "stories", "--from", SharedFiles.Model("stories260K.gguf"));
        await ctl.OkAsync("create", "model", "qv", "--base-model", "stories", "--from", Lora("stories260K-lora-qv-r4.gguf"));
        await ctl.OkAsync("create", "model", "all", "--base-model", "stories", "--from", Lora("stories260K-lora-all-r8-peft"));
        await ctl.OkAsync("create", "deployment", "stories", "--deployment-id", "tales", "--enable-addons", "--wait", "--wait-timeout", "90s");
        var (pid, port) = Assert.Single(await ReadyReplicasAsync(ctl));

        // Deploying loads onto the running replica: same process, and the addon's state follows.
        Assert.Contains("DEPLOYED", await ctl.OkAsync("deploy", "qv", "--deployment-id", "tales", "--wait", "--wait-timeout", "60s"));
        Assert.Contains("DEPLOYED", await ctl.OkAsync("deploy", "all", "--deployment-id", "tales", "--wait", "--wait-timeout", "60s"));
        Assert.Equal(pid, Assert.Single(await ReadyReplicasAsync(ctl)).Pid);
        var qv = JsonNode.Parse(await ctl.OkAsync("get", "model", "qv", "-o", "json"))!;
        Assert.Equal("DEPLOYED", (string?)qv["state"]);
        Assert.Equal("accounts/default/deployments/tales", (string?)qv["deployedModelRefs"]![0]!["deployment"]);
        Assert.Contains("DEPLOYED", await ctl.OkAsync("list", "deployed-models", "--deployment-id", "tales"));

        // Through the gateway, each name answers with its own adapter: llama.cpp's greedy continuations.
        var gateway = new Uri(server.BaseUri, "inference/v1/");
        var key = server.AdminKey;
        Assert.Equal(GreedyText("stories260K-base.json", Prompt), await CompleteAsync(gateway, key, Base, Prompt, 32));
        Assert.Equal(GreedyText("stories260K-lora-qv-r4.json", Prompt), await CompleteAsync(gateway, key, Qv, Prompt, 32));
        Assert.Equal(GreedyText("stories260K-lora-all-r8.json", Prompt), await CompleteAsync(gateway, key, All, Prompt, 32));

        // Concurrent streams for all three (OpenAI .NET client, through the gateway) equal each one alone.
        string[] models = [Base, Qv, All];
        var alone = new Dictionary<string, string>();
        foreach (var m in models) alone[m] = await StreamChatAsync(gateway, key, m, "Tell me a story");
        Assert.Equal(3, alone.Values.Distinct().Count());
        var jobs = Enumerable.Range(0, 3).SelectMany(_ => models).ToArray();
        var answers = await Task.WhenAll(jobs.Select(m => StreamChatAsync(gateway, key, m, "Tell me a story")));
        for (var i = 0; i < jobs.Length; i++) Assert.Equal(alone[jobs[i]], answers[i]);

        // A replica started after the deploy serves the addons from its first READY.
        await ctl.OkAsync("update", "deployment", "tales", "--max-replica-count", "2");
        await ctl.OkAsync("scale", "deployment", "tales", "--replica-count", "2", "--wait", "--wait-timeout", "90s");
        var replicas = await Wait.ForAsync(async () => await ReadyReplicasAsync(ctl) is { Count: 2 } two ? two : null, Steps.Timeout, "two ready replicas");
        var (_, newPort) = replicas.Single(r => r.Pid != pid);
        Assert.Equal([All, Qv], (await AdaptersAsync(newPort)).Keys.Order(StringComparer.Ordinal));
        Assert.Equal(GreedyText("stories260K-lora-qv-r4.json", Prompt), await CompleteAsync(newPort, Qv, Prompt, 32));

        // Undeploy under traffic through the gateway: every request admitted finishes with the adapter's answer.
        // Long generations keep requests in flight long enough to be seen on a loaded machine.
        var expected = await CompleteAsync(port, Qv, Prompt, 1200);
        var traffic = Enumerable.Range(0, 32).Select(_ => CompleteAsync(gateway, key, Qv, Prompt, 1200)).ToArray();
        // Undeploy only once every request has reached a replica (in flight or done): the gateway
        // rightly refuses one still on its way once the addon is undeploying.
        await Wait.ForAsync(async () =>
        {
            var done = traffic.Count(t => t.IsCompleted); // read before the count of active ones
            Assert.True(done < traffic.Length, "the traffic finished before it was seen in flight");
            var active = 0;
            foreach (var r in replicas) active += (await AdaptersAsync(r.Port)).GetValueOrDefault(Qv).Active;
            return active > 0 && done + active >= traffic.Length ? "" : null;
        }, Steps.Timeout, "every request in flight");
        var undeploy = ctl.RunAsync("undeploy", "qv", "--deployment-id", "tales", "--wait", "--wait-timeout", "60s");
        var sawUnloading = false;
        while (!traffic.All(t => t.IsCompleted))
        {
            // Draining: the adapter takes no new requests but keeps serving those in flight.
            foreach (var r in replicas)
            {
                sawUnloading |= (await AdaptersAsync(r.Port)).GetValueOrDefault(Qv) is ("unloading", > 0);
            }
            await Task.Delay(10);
        }
        Assert.All(await Task.WhenAll(traffic), a => Assert.Equal(expected, a));
        Assert.True(sawUnloading, "the undeploy did not reach a replica while its requests were running");
        var undeployed = await undeploy;
        Assert.True(undeployed.ExitCode == 0, undeployed.ToString());
        using (var inference = new Inference(server.BaseUri, key))
        {
            var gone = await inference.PostAsync("/inference/v1/completions", new { model = Qv, prompt = Prompt, max_tokens = 4 });
            Assert.Equal(System.Net.HttpStatusCode.NotFound, gone.Status);
        }
        foreach (var r in replicas)
        {
            Assert.Equal([All], (await AdaptersAsync(r.Port)).Keys);
        }
        Assert.Equal("READY", (string?)JsonNode.Parse(await ctl.OkAsync("get", "model", "qv", "-o", "json"))!["state"]);
        Assert.Equal(GreedyText("stories260K-lora-all-r8.json", Prompt), await CompleteAsync(newPort, All, Prompt, 32));
        await ctl.OkAsync("delete", "model", "qv");

        await ctl.OkAsync("delete", "deployment", "tales", "--wait", "--wait-timeout", "60s");
        await Wait.UntilAsync(() => server.ReplicaProcesses().Count == 0, Steps.Timeout, "replica processes to stop");
    }

    [SharedFact]
    public async Task A_single_addon_deploys_merged_into_its_base()
    {
        using var server = await KilnServer.StartAsync();
        var ctl = new Kilnctl(server.BaseUri, server.AdminKey, Kilnctl.NewConfigDir());
        await ctl.OkAsync("import", "model", "stories", "--from", SharedFiles.Model("stories260K.gguf"));
        await ctl.OkAsync("create", "model", "qv", "--base-model", "stories", "--from", Lora("stories260K-lora-qv-r4-peft"));

        await ctl.OkAsync("create", "deployment", "qv", "--deployment-id", "merged", "--wait", "--wait-timeout", "90s");
        var d = JsonNode.Parse(await ctl.OkAsync("get", "deployment", "merged", "-o", "json"))!;
        var port = (int)d["replicas"]![0]!["port"]!;
        // The merged weights give the adapter run's answer, under the addon's own name.
        Assert.Equal(GreedyText("stories260K-lora-qv-r4.json", Prompt), await CompleteAsync(port, Qv, Prompt, 32));
        Assert.Empty(await AdaptersAsync(port));
        Assert.Contains("accounts/default/deployments/merged", await ctl.OkAsync("get", "model", "qv"));
        Assert.Contains("FAILED_PRECONDITION", (await ctl.RunAsync("delete", "model", "qv")).Stderr);

        await ctl.OkAsync("delete", "deployment", "merged", "--wait", "--wait-timeout", "60s");
        await ctl.OkAsync("delete", "model", "qv");
    }
}
