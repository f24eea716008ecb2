using System.Net;
using System.Text.Json.Nodes;

namespace Kiln.ControlPlane.Tests;

/// <summary>
/// Deployment shapes as a Fireworks user meets them: listed and matched with kilnctl and the REST
/// API, named at create, and carried to the replica's command line.
/// </summary>
public class DeploymentShapeTests
{
    [SharedFact]
    public async Task A_deployment_from_a_shape_reaches_READY_with_the_shape_s_settings_on_its_replica()
    {
        using var server = await KilnServer.StartAsync();
        var ctl = new Kilnctl(server.BaseUri, server.AdminKey, Kilnctl.NewConfigDir());
        await ctl.OkAsync("import", "model", "stories", "--from", SharedFiles.Model("stories260K.gguf"));

        var table = await ctl.OkAsync("list", "deployment-shape-versions");
        Assert.Contains("accounts/kiln/deploymentShapes/cpu-minimal/versions/", table);
        Assert.Contains("THROUGHPUT", table);
        var matched = await ctl.OkAsync("deployment-shape-version", "match", "stories");
        Assert.Contains("cpu-minimal", matched);
        Assert.Equal(matched, await ctl.OkAsync("match", "deployment-shape-versions", "stories"));

        var version = JsonNode.Parse(await ctl.OkAsync("get", "deployment-shape-version", "cpu-minimal", "-o", "json"))!;
        var versionName = (string)version["name"]!;
        Assert.StartsWith("accounts/kiln/deploymentShapes/cpu-minimal/versions/", versionName);
        Assert.Equal(4, (int)version["snapshot"]!["maxBatchSize"]!);
        Assert.Contains("Max Batch Size", await ctl.OkAsync("get", "deployment-shape-version", versionName));

        var contradiction = await ctl.RunAsync("create", "deployment", "stories", "--deployment-shape", "cpu-minimal", "--precision", "FP16");
        Assert.Equal(1, contradiction.ExitCode);
        Assert.Contains($"precision: FP16 contradicts deployment shape {versionName}, which fixes precision FP32", contradiction.Stderr);
        var badFlag = await ctl.RunAsync("create", "deployment", "stories", "--deployment-shape", "Not/A/Shape");
        Assert.Equal(2, badFlag.ExitCode);
        Assert.Contains("--deployment-shape", badFlag.Stderr);
        var badBudget = await ctl.RunAsync("create", "deployment", "stories", "--prefix-cache-mb", "lots");
        Assert.Equal(2, badBudget.ExitCode);
        Assert.Contains("--prefix-cache-mb: invalid value \"lots\"", badBudget.Stderr);

        var created = await ctl.OkAsync("create", "deployment", "stories", "--deployment-id", "shaped", "--deployment-shape", "cpu-minimal",
            "--min-replica-count", "1", "--wait", "--wait-timeout", "90s");
        Assert.Contains("READY", created);
        var text = await ctl.OkAsync("get", "deployment", "shaped");
        Assert.Contains(versionName, text);
        Assert.Contains("Prefix Cache MB", text);

        var deployment = JsonNode.Parse(await ctl.OkAsync("get", "deployment", "shaped", "-o", "json"))!;
        Assert.Equal(versionName, (string)deployment["deploymentShape"]!);
        Assert.Equal((4, 2048, 64), ((int)deployment["maxBatchSize"]!, (int)deployment["maxContextLength"]!, (int)deployment["prefixCacheMb"]!));
        var pid = (int)deployment["replicas"]![0]!["pid"]!;
        Assert.Equal("4", Processes.ArgumentAfter(pid, "--max-batch-size"));
        Assert.Equal("2048", Processes.ArgumentAfter(pid, "--ctx-size"));
        Assert.Equal("64", Processes.ArgumentAfter(pid, "--prefix-cache-mb"));
        Assert.Equal("f32", Processes.ArgumentAfter(pid, "--kv-cache-type"));
        Assert.Equal("1", Processes.ArgumentAfter(pid, "--threads"));
        // The replica runs with them, as its metrics say.
        var port = (int)deployment["replicas"]![0]!["port"]!;
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        var metrics = await http.GetStringAsync("metrics");
        Assert.Contains("kiln_max_batch_size 4\n", metrics);
        // The cache holds whole blocks, so its capacity is the budget rounded down (the default would be 256 MiB).
        var capacity = long.Parse(metrics.Split('\n').Single(l => l.StartsWith("kiln_prefix_cache_capacity_bytes ", StringComparison.Ordinal)).Split(' ')[1],
            System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(capacity, 32L << 20, 64L << 20);
    }

    [SharedFact]
    public async Task The_API_resolves_shapes_checks_fit_and_contradictions_and_switches_shapes()
    {
        var dir = Directory.CreateTempSubdirectory("kiln-shapes-").FullName;
        var config = Path.Combine(dir, "kiln.json");
        File.WriteAllText(config, """
            {"deploymentShapes": {
              "huge-only": {"architectures": ["llama"], "minModelSizeMb": 100000, "presetType": "THROUGHPUT"},
              "tight": {"architectures": ["llama"], "maxBatchSize": 2, "prefixCacheMb": 0, "maxContextLength": 128}}}
            """);
        using var server = await KilnServer.StartAsync("--config", config);
        using var api = new Api(server.BaseUri, server.AdminKey);
        var ctl = new Kilnctl(server.BaseUri, server.AdminKey, Kilnctl.NewConfigDir());
        await ctl.OkAsync("import", "model", "stories", "--from", SharedFiles.Model("stories260K.gguf"));

        var all = await api.GetAsync("/v1/accounts/kiln/deploymentShapes/-/versions");
        Assert.Equal(HttpStatusCode.OK, all.Status);
        var names = all.Body.GetProperty("deploymentShapeVersions").EnumerateArray().Select(v => v.GetProperty("name").GetString()!).ToList();
        Assert.Equal(5, names.Count);
        Assert.Contains(names, n => n.StartsWith("accounts/kiln/deploymentShapes/huge-only/versions/", StringComparison.Ordinal));
        var fitting = await api.GetAsync("/v1/accounts/kiln/deploymentShapes/-/versions?baseModel=stories");
        var fittingNames = fitting.Body.GetProperty("deploymentShapeVersions").EnumerateArray().Select(v => v.GetProperty("name").GetString()!).ToList();
        Assert.Equal(4, fittingNames.Count);
        Assert.DoesNotContain(fittingNames, n => n.Contains("huge-only", StringComparison.Ordinal));

        var latest = await api.GetAsync("/v1/accounts/kiln/deploymentShapes/tight/versions/latest");
        Assert.Equal(2, latest.Body.GetProperty("snapshot").GetProperty("maxBatchSize").GetInt32());
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync("/v1/accounts/kiln/deploymentShapes/nope/versions/latest")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync("/v1/accounts/kiln/deploymentShapes/tight/versions/000000000000")).Status);

        var unknown = await api.PostAsync("/v1/accounts/default/deployments", new { baseModel = "stories", deploymentShape = "nope" });
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
        Assert.Contains("deployment shape nope", unknown.Message);
        var malformed = await api.PostAsync("/v1/accounts/default/deployments", new { baseModel = "stories", deploymentShape = "accounts/x/shapes/y" });
        Assert.Equal(HttpStatusCode.BadRequest, malformed.Status);
        Assert.Contains("deploymentShape", malformed.Message);
        var tooSmall = await api.PostAsync("/v1/accounts/default/deployments", new { baseModel = "stories", deploymentShape = "huge-only" });
        Assert.Equal(HttpStatusCode.BadRequest, tooSmall.Status);
        Assert.Contains("fits models of at least 100,000 MiB, but accounts/default/models/stories is", tooSmall.Message);
        var contradicts = await api.PostAsync("/v1/accounts/default/deployments", new { baseModel = "stories", deploymentShape = "tight", acceleratorCount = 2, prefixCacheMb = 32 });
        Assert.Equal(HttpStatusCode.BadRequest, contradicts.Status);
        Assert.Contains("acceleratorCount: 2 contradicts deployment shape accounts/kiln/deploymentShapes/tight/versions/", contradicts.Message);
        Assert.Contains("prefixCacheMb: 32 contradicts", contradicts.Message);
        var badBudget = await api.PostAsync("/v1/accounts/default/deployments", new { baseModel = "stories", prefixCacheMb = -1 });
        Assert.Equal(HttpStatusCode.BadRequest, badBudget.Status);
        Assert.Contains("prefixCacheMb: must be between 0 (off)", badBudget.Message);

        var created = await api.PostAsync("/v1/accounts/default/deployments?deploymentId=shaped", new { baseModel = "stories", deploymentShape = "accounts/kiln/deploymentShapes/tight" });
        Assert.Equal(HttpStatusCode.OK, created.Status);
        Assert.Equal(latest.Str("name"), created.Str("deploymentShape"));
        Assert.Equal((2, 128, 0), (created.Body.GetProperty("maxBatchSize").GetInt32(), created.Body.GetProperty("maxContextLength").GetInt32(), created.Body.GetProperty("prefixCacheMb").GetInt32()));

        // Keeping the shape, a contradicting field is refused; switching shapes replaces its settings; "" drops the shape.
        var kept = await api.PatchAsync("/v1/accounts/default/deployments/shaped", new { prefixCacheMb = 16 });
        Assert.Equal(HttpStatusCode.BadRequest, kept.Status);
        Assert.Contains("clear it with deploymentShape", kept.Message);
        var switched = await api.PatchAsync("/v1/accounts/default/deployments/shaped", new { deploymentShape = "cpu-throughput" });
        Assert.Equal(HttpStatusCode.OK, switched.Status);
        Assert.StartsWith("accounts/kiln/deploymentShapes/cpu-throughput/versions/", switched.Str("deploymentShape"));
        Assert.Equal(("FP16", 16, 512), (switched.Str("precision"), switched.Body.GetProperty("maxBatchSize").GetInt32(), switched.Body.GetProperty("prefixCacheMb").GetInt32()));
        var cleared = await api.PatchAsync("/v1/accounts/default/deployments/shaped", new { deploymentShape = "", prefixCacheMb = 16 });
        Assert.Equal(HttpStatusCode.OK, cleared.Status);
        Assert.False(cleared.Body.TryGetProperty("deploymentShape", out var shapeLeft) && shapeLeft.ValueKind != System.Text.Json.JsonValueKind.Null, cleared.ToString());
        Assert.Equal(16, cleared.Body.GetProperty("prefixCacheMb").GetInt32());
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task A_bad_shape_in_the_configuration_stops_the_server_with_one_clear_error()
    {
        var dir = Directory.CreateTempSubdirectory("kiln-config-").FullName;
        var config = Path.Combine(dir, "kiln.json");
        File.WriteAllText(config, """{"deploymentShapes": {"odd": {"maxBatchSize": 0}}}""");
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => KilnServer.StartAsync("--config", config));
        Assert.Contains("exited with 2", e.Message);
        Assert.Contains($"kiln server: --config {config}: deploymentShapes.odd.maxBatchSize: must be between 1 and 1024, got 0", e.Message);
        Directory.Delete(dir, recursive: true);
    }
}
