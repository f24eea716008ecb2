using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kiln.ControlPlane.Tests;

/// <summary>
/// The whole lifecycle as a user drives it: the real kilnctl against the real server, whose
/// replicas are real engine processes serving a real model.
/// </summary>
public class KilnctlEndToEndTests
{
    [SharedFact]
    public async Task ImportDeployQueryScaleAndDeleteWithKilnctl()
    {
        using var server = await KilnServer.StartAsync();
        var config = Kilnctl.NewConfigDir();
        var ctl = new Kilnctl(server.BaseUri, server.AdminKey, config);

        var imported = await ctl.OkAsync("import", "model", "stories", "--from", SharedFiles.Model("stories260K.gguf"));
        Assert.Contains("270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d", imported);

        var created = await ctl.OkAsync("create", "deployment", "stories", "--deployment-id", "tales",
            "--min-replica-count", "1", "--wait", "--wait-timeout", "90s");
        Assert.Contains("READY", created);

        var model = await ctl.OkAsync("get", "model", "stories");
        Assert.Contains("DEPLOYED", model);
        Assert.Contains("accounts/default/deployments/tales", model);

        // The replica serves the model: llama.cpp's greedy continuation comes back.
        var deployment = JsonNode.Parse(await ctl.OkAsync("get", "deployment", "tales", "-o", "json"))!;
        Assert.Equal("READY", (string?)deployment["state"]);
        Assert.Equal(1, (int?)deployment["replicaCount"]);
        var port = (int)deployment["replicas"]![0]!["port"]!;
        using (var http = new HttpClient())
        {
            var r = await http.PostAsJsonAsync($"http://127.0.0.1:{port}/v1/completions",
                new { prompt = "Once upon a time", max_tokens = 12, temperature = 0 });
            using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
            Assert.StartsWith(", there was a little girl named Lily.",
                doc.RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
        }

        await ctl.OkAsync("update", "deployment", "tales", "--min-replica-count", "2", "--max-replica-count", "2", "--wait", "--wait-timeout", "90s");
        await Wait.UntilAsync(() => server.ReplicaProcesses().Count == 2, TimeSpan.FromSeconds(60), "a second replica process");
        var scaled = JsonNode.Parse(await ctl.OkAsync("get", "deployment", "tales", "-o", "json"))!;
        Assert.Equal(2, (int?)scaled["desiredReplicaCount"]);

        var listed = await ctl.OkAsync("list", "deployments");
        Assert.Contains("tales", listed);

        var deleted = await ctl.RunAsync("delete", "deployment", "tales", "--wait", "--wait-timeout", "60s");
        Assert.True(deleted.ExitCode == 0, deleted.ToString());
        await Wait.UntilAsync(() => server.ReplicaProcesses().Count == 0, TimeSpan.FromSeconds(30), "replica processes to stop");
        Assert.Contains("READY", await ctl.OkAsync("get", "model", "stories"));
    }

    [SharedFact]
    public async Task KilnctlErrorsNameTheProblem()
    {
        using var server = await KilnServer.StartAsync();
        var config = Kilnctl.NewConfigDir();
        var ctl = new Kilnctl(server.BaseUri, server.AdminKey, config);
        await ctl.OkAsync("import", "model", "stories", "--from", SharedFiles.Model("stories260K.gguf"));

        var badWindow = await ctl.RunAsync("create", "deployment", "stories", "--scale-up-window", "abc");
        Assert.Equal(2, badWindow.ExitCode);
        Assert.Contains("--scale-up-window", badWindow.Stderr);

        var badCount = await ctl.RunAsync("create", "deployment", "stories", "--min-replica-count", "-1");
        Assert.Equal(2, badCount.ExitCode);
        Assert.Contains("--min-replica-count", badCount.Stderr);

        var badId = await ctl.RunAsync("import", "model", "Bad_Id", "--from", SharedFiles.Model("stories260K.gguf"));
        Assert.NotEqual(0, badId.ExitCode);
        Assert.Contains("Bad_Id", badId.Stderr);

        var duplicate = await ctl.RunAsync("import", "model", "stories", "--from", SharedFiles.Model("stories260K.gguf"));
        Assert.Equal(1, duplicate.ExitCode);
        Assert.Contains("ALREADY_EXISTS", duplicate.Stderr);

        var unknown = await ctl.RunAsync("get", "deployment", "nope");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("NOT_FOUND", unknown.Stderr);

        // Another account's key sees none of this account's resources.
        var account = await ctl.OkAsync("create", "account", "other");
        var otherKey = account.Split('\n').Select(l => l.Trim()).First(l => l.StartsWith("Key:", StringComparison.Ordinal))["Key:".Length..].Trim();
        var other = ctl.WithKey(otherKey);
        var hidden = await other.RunAsync("get", "model", "accounts/default/models/stories");
        Assert.Equal(1, hidden.ExitCode);
        Assert.Contains("NOT_FOUND", hidden.Stderr);
        var theirs = await other.RunAsync("list", "models");
        Assert.Equal(0, theirs.ExitCode);
        Assert.DoesNotContain("stories", theirs.Stdout);
    }
}
