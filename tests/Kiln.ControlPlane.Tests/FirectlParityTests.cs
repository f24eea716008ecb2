using System.Net;
using System.Text.Json.Nodes;

namespace Kiln.ControlPlane.Tests;

/// <summary>One server with a tiny model imported, shared by the firectl parity tests (REST and kilnctl).</summary>
public sealed class FirectlServer : IAsyncLifetime
{
    public const string Model = "accounts/default/models/tiny";
    public KilnServer Server { get; private set; } = null!;
    public Api Api { get; private set; } = null!;
    public Kilnctl Ctl { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await KilnServer.StartAsync("--autoscale-interval", "500ms");
        Api = new Api(Server.BaseUri, Server.AdminKey);
        Ctl = new Kilnctl(Server.BaseUri, Server.AdminKey, Kilnctl.NewConfigDir());
        Assert.Equal("READY", (await Steps.ImportAsync(Api, "default", "tiny", TestModels.Tiny())).State());
    }

    /// <summary>Creates a deployment of the tiny model and returns its path.</summary>
    public async Task<string> CreateAsync(string id, object? extra = null)
    {
        var body = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(extra ?? new { }))!.AsObject();
        body["baseModel"] = Model;
        var created = await Api.PostAsync($"/v1/accounts/default/deployments?deploymentId={id}", body.ToJsonString());
        Assert.True(created.Status == HttpStatusCode.OK, created.ToString());
        return $"/v1/accounts/default/deployments/{id}";
    }

    public async Task DeleteAndWaitAsync(string path)
    {
        Assert.Equal(HttpStatusCode.OK, (await Api.DeleteAsync(path)).Status);
        await Steps.WaitForAsync(Api, path, r => r.State() == "DELETED", "DELETED");
    }

    public Task DisposeAsync()
    {
        Api?.Dispose();
        Server?.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>The deployment verbs firectl users bring: undelete, scale, list filters, files and shapes.</summary>
public class FirectlParityTests(FirectlServer fx) : IClassFixture<FirectlServer>
{
    [Fact]
    public async Task Undelete_over_rest_brings_a_deleted_deployment_back_with_its_spec()
    {
        var path = await fx.CreateAsync("revive", new { displayName = "Revive me", maxReplicaCount = 2, autoscalingPolicy = new { scaleUpWindow = "45s" } });
        var live = await fx.Api.PostAsync($"{path}:undelete");
        Assert.Equal((HttpStatusCode.BadRequest, "FAILED_PRECONDITION"), (live.Status, live.Code));
        Assert.Contains("not DELETED", live.Message);

        await fx.DeleteAndWaitAsync(path);
        var back = await fx.Api.PostAsync($"{path}:undelete");
        Assert.True(back.Status == HttpStatusCode.OK, back.ToString());
        Assert.Equal("CREATING", back.State());
        Assert.Equal(("Revive me", 2, "45s"), (back.Str("displayName"), back.Int("maxReplicaCount"),
            back.Body.GetProperty("autoscalingPolicy").GetProperty("scaleUpWindow").GetString()));
        Assert.True(back.HasEvent("Undeleted"), back.ToString());
        Assert.False(back.Body.TryGetProperty("deleteTime", out var deleteTime) && deleteTime.ValueKind == System.Text.Json.JsonValueKind.String, back.ToString());
        await Steps.WaitForAsync(fx.Api, path, r => r.State() == "READY" && r.Int("replicaCount") == 1, "READY again");

        var missing = await fx.Api.PostAsync("/v1/accounts/default/deployments/never:undelete");
        Assert.Equal((HttpStatusCode.NotFound, "NOT_FOUND"), (missing.Status, missing.Code));
        Assert.Contains("purged", missing.Message);
        await fx.DeleteAndWaitAsync(path);
    }

    [Fact]
    public async Task Kilnctl_undelete_deployment_waits_until_ready()
    {
        var path = await fx.CreateAsync("again");
        var notDeleted = await fx.Ctl.RunAsync("undelete", "deployment", "again");
        Assert.Equal(1, notDeleted.ExitCode);
        Assert.Contains("FAILED_PRECONDITION", notDeleted.Stderr);
        Assert.Contains("not DELETED", notDeleted.Stderr);

        await fx.Ctl.OkAsync("delete", "deployment", "again", "--wait", "--wait-timeout", "60s");
        Assert.Contains("again", await fx.Ctl.OkAsync("list", "deployments", "--show-deleted"));
        var back = await fx.Ctl.OkAsync("undelete", "deployment", "again", "--wait", "--wait-timeout", "90s");
        Assert.Contains("READY", back);
        Assert.Equal("READY", (await fx.Api.GetAsync(path)).State());
        await fx.DeleteAndWaitAsync(path);
    }

    [Fact]
    public async Task Scale_over_rest_sets_the_desired_count_within_the_bounds_and_keeps_them()
    {
        var path = await fx.CreateAsync("scaled", new { maxReplicaCount = 3 });
        await Steps.WaitForAsync(fx.Api, path, r => r.State() == "READY", "READY");

        var outside = await fx.Api.PostAsync($"{path}:scale", new { replicaCount = 4 });
        Assert.Equal((HttpStatusCode.BadRequest, "INVALID_ARGUMENT"), (outside.Status, outside.Code));
        Assert.Contains("[minReplicaCount 0, maxReplicaCount 3]", outside.Message);
        var missing = await fx.Api.PostAsync($"{path}:scale", new { });
        Assert.Equal(HttpStatusCode.BadRequest, missing.Status);
        Assert.Contains("replicaCount: is required", missing.Message);

        var asked = await fx.Api.SendAsync(HttpMethod.Patch, $"{path}:scale", new { replicaCount = 2 });
        Assert.True(asked.Status == HttpStatusCode.OK, asked.ToString());
        Assert.Equal(2, asked.Int("replicaCount"));
        Assert.StartsWith("the autoscaler sets the desired replica count to 2 at once; then load may raise it", asked.Str("autoscaler"));

        var two = await Steps.WaitForAsync(fx.Api, path, r => r.Int("desiredReplicaCount") == 2 && r.Int("replicaCount") == 2, "two ready replicas");
        // The bounds stay as they were: the count moved inside them.
        Assert.Equal((0, 3), (two.Int("minReplicaCount"), two.Int("maxReplicaCount")));
        var events = two.Body.GetProperty("events").EnumerateArray().Select(e => $"{e.GetProperty("type").GetString()}: {e.GetProperty("message").GetString()}").ToList();
        Assert.Contains(events, e => e.StartsWith("Autoscaled: scale 1 -> 2: requested;", StringComparison.Ordinal));
        Assert.Contains("ScaleRequested: scale to 2 requested", events);
        await fx.DeleteAndWaitAsync(path);
    }

    [Fact]
    public async Task Kilnctl_scale_deployment_says_what_the_autoscaler_does_next()
    {
        var path = await fx.CreateAsync("dial", new { maxReplicaCount = 2 });
        var outside = await fx.Ctl.RunAsync("scale", "deployment", "dial", "--replica-count", "3");
        Assert.Equal(1, outside.ExitCode);
        Assert.Contains("INVALID_ARGUMENT: replicaCount: 3 is outside the deployment's bounds [minReplicaCount 0, maxReplicaCount 2]", outside.Stderr);

        var scaled = await fx.Ctl.OkAsync("scale", "deployment", "dial", "--replica-count", "2", "--wait", "--wait-timeout", "90s");
        Assert.Contains("Requested 2 replica(s) for deployment accounts/default/deployments/dial.", scaled);
        Assert.Contains("Next: the autoscaler sets the desired replica count to 2 at once; then load may raise it", scaled);
        var d = await fx.Api.GetAsync(path);
        Assert.Equal((2, 0, 2), (d.Int("desiredReplicaCount"), d.Int("minReplicaCount"), d.Int("maxReplicaCount")));
        await fx.DeleteAndWaitAsync(path);
    }

    [Fact]
    public async Task List_filter_and_order_by_over_rest_page_correctly_and_explain_bad_expressions()
    {
        foreach (var id in new[] { "lf1", "lf2", "lf3" })
        {
            Assert.Equal("READY", (await Steps.ImportAsync(fx.Api, "default", id, TestModels.Tiny())).State());
        }
        const string models = "/v1/accounts/default/models";
        var filter = Uri.EscapeDataString("display_name : \"lf\" AND state = READY");
        var order = Uri.EscapeDataString("create_time desc, name");
        var first = await fx.Api.GetAsync($"{models}?filter={filter}&orderBy={order}&pageSize=2");
        Assert.True(first.Status == HttpStatusCode.OK, first.ToString());
        Assert.Equal(["accounts/default/models/lf3", "accounts/default/models/lf2"], Names(first, "models"));
        Assert.Equal(3, first.Int("totalSize"));
        var token = Uri.EscapeDataString(first.Str("nextPageToken"));
        var second = await fx.Api.GetAsync($"{models}?filter={filter}&orderBy={order}&pageSize=2&pageToken={token}");
        Assert.Equal(["accounts/default/models/lf1"], Names(second, "models"));
        Assert.Equal("", second.Str("nextPageToken"));
        var foreign = await fx.Api.GetAsync($"{models}?orderBy={order}&pageSize=2&pageToken={token}");
        Assert.Equal((HttpStatusCode.BadRequest, "INVALID_ARGUMENT"), (foreign.Status, foreign.Code));

        var bad = await fx.Api.GetAsync($"{models}?filter={Uri.EscapeDataString("state = READY AND (kind = HF_BASE_MODEL")}");
        Assert.Equal((HttpStatusCode.BadRequest, "INVALID_ARGUMENT"), (bad.Status, bad.Code));
        Assert.Equal("filter: expected ')' (to close the '(' at position 19) at position 40, got the end of the filter", bad.Message);
        var badOrder = await fx.Api.GetAsync($"{models}?orderBy=size_bytes%20up");
        Assert.Equal("orderBy: 'up' after 'size_bytes': expected asc or desc", badOrder.Message);

        var path = await fx.CreateAsync("filtered", new { displayName = "Filtered one" });
        const string deployments = "/v1/accounts/default/deployments";
        var mine = await fx.Api.GetAsync($"{deployments}?filter={Uri.EscapeDataString("base_model = \"" + FirectlServer.Model + "\" AND display_name = \"Filtered one\"")}");
        Assert.Equal(["accounts/default/deployments/filtered"], Names(mine, "deployments"));
        var others = await fx.Api.GetAsync($"{deployments}?filter={Uri.EscapeDataString("NOT display_name = \"Filtered one\" OR accelerator_type = NVIDIA_H100_80GB")}");
        Assert.DoesNotContain("accounts/default/deployments/filtered", Names(others, "deployments"));
        var badState = await fx.Api.GetAsync($"{deployments}?filter=state%3DRUNNING");
        Assert.StartsWith("filter: state is one of STATE_UNSPECIFIED, CREATING, READY", badState.Message);
        await fx.DeleteAndWaitAsync(path);
        var deleted = await fx.Api.GetAsync($"{deployments}?showDeleted=true&filter={Uri.EscapeDataString("state = DELETED AND name : \"filtered\"")}");
        Assert.Equal(["accounts/default/deployments/filtered"], Names(deleted, "deployments"));
    }

    [Fact]
    public async Task Kilnctl_list_takes_filter_and_order_by()
    {
        foreach (var id in new[] { "kf1", "kf2" })
        {
            await Steps.ImportAsync(fx.Api, "default", id, TestModels.Tiny());
        }
        var listed = JsonNode.Parse(await fx.Ctl.OkAsync("list", "models", "--filter", "name : \"kf\"", "--order-by", "create_time desc", "-o", "json"))!;
        Assert.Equal(["accounts/default/models/kf2", "accounts/default/models/kf1"], listed["models"]!.AsArray().Select(m => (string?)m!["name"]));

        var bad = await fx.Ctl.RunAsync("list", "deployments", "--filter", "state = = READY");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("INVALID_ARGUMENT: filter: expected a value after 'state =' at position 9, got '='", bad.Stderr);
    }

    [Fact]
    public async Task Description_and_load_targets_over_rest_round_trip()
    {
        var path = await fx.CreateAsync("described", new { description = "batch jobs", autoscalingPolicy = new { loadTargets = new Dictionary<string, double> { ["default"] = 0.5 } } });
        var got = await fx.Api.GetAsync(path);
        Assert.Equal(("batch jobs", 0.5), (got.Str("description"), got.Body.GetProperty("autoscalingPolicy").GetProperty("loadTargets").GetProperty("default").GetDouble()));
        var patched = await fx.Api.PatchAsync(path, new { description = "nightly" });
        Assert.Equal("nightly", patched.Str("description"));
        var tooLong = await fx.Api.PatchAsync(path, new { description = new string('x', 5000) });
        Assert.Equal((HttpStatusCode.BadRequest, "description: is 5000 characters long; at most 4096 are allowed"), (tooLong.Status, tooLong.Message));
        await fx.DeleteAndWaitAsync(path);
    }

    [Fact]
    public async Task Kilnctl_create_from_a_file_with_flags_over_it_and_a_dry_run_that_sends_nothing()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("kiln-file-").FullName, "deployment.json");
        await File.WriteAllTextAsync(file, $$"""{"baseModel": "{{FirectlServer.Model}}", "displayName": "From file", "maxReplicaCount": 2, "state": "READY"}""");

        var dry = await fx.Ctl.OkAsync("create", "deployment", "--file", file, "--deployment-id", "fromfile", "--description", "dry", "--dry-run");
        Assert.Contains("Dry run: would send POST", dry);
        Assert.Equal(HttpStatusCode.NotFound, (await fx.Api.GetAsync("/v1/accounts/default/deployments/fromfile")).Status);

        var created = JsonNode.Parse(await fx.Ctl.OkAsync("create", "deployment", "--file", file, "--deployment-id", "fromfile",
            "--display-name", "From flag", "--load-targets", "default=0.6,concurrent_requests=4", "--description", "made from a file", "-o", "json"))!;
        Assert.Equal(("From flag", 2, "made from a file"), ((string?)created["displayName"], (int?)created["maxReplicaCount"], (string?)created["description"]));
        Assert.Equal(4, (double?)created["autoscalingPolicy"]!["loadTargets"]!["concurrent_requests"]);

        var updated = await fx.Ctl.OkAsync("update", "deployment", "fromfile", "--load-targets", "default=0.7", "-o", "json");
        Assert.Equal(0.7, (double?)JsonNode.Parse(updated)!["autoscalingPolicy"]!["loadTargets"]!["default"]);
        var badTarget = await fx.Ctl.RunAsync("update", "deployment", "fromfile", "--load-targets", "gpu_temperature=3");
        Assert.Equal(1, badTarget.ExitCode);
        Assert.Contains("unknown target \"gpu_temperature\"", badTarget.Stderr);
        await fx.DeleteAndWaitAsync("/v1/accounts/default/deployments/fromfile");
    }

    private static List<string> Names(Api.Reply reply, string items) =>
        [.. reply.Body.GetProperty(items).EnumerateArray().Select(e => e.GetProperty("name").GetString()!)];
}
