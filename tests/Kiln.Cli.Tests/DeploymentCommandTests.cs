using System.Text.Json.Nodes;

namespace Kiln.Cli.Tests;

public class DeploymentCommandTests
{
    private const string Deployments = "/v1/accounts/acme/deployments";
    private const string Chat = "/v1/accounts/acme/deployments/chat";

    [Fact]
    public async Task CreateSendsTheSpecAsJson()
    {
        using var cli = new CliHarness();
        cli.Server.On("POST", Deployments, Samples.Deployment("CREATING", 0, 1).ToJsonString());

        var result = await cli.RunAsync("create", "deployment", "llama", "--deployment-id", "chat",
            "--min-replica-count", "1", "--max-replica-count", "2", "--scale-up-window", "1m",
            "--scale-to-zero-window", "2h", "--unused-auto-delete-duration=0", "--world-size", "2",
            "--accelerator-type", "CPU", "--display-name", "Chat", "--enable-addons", "--precision", "fp16");

        Assert.Equal(0, result.ExitCode);
        var post = Assert.Single(cli.Server.Calls("POST", Deployments));
        Assert.Equal("?deploymentId=chat", post.Query);
        Assert.Equal("Bearer test-key", post.Authorization);
        Assert.Equal("application/json", post.ContentType);
        Assert.Equal(
            """{"baseModel":"accounts/acme/models/llama","displayName":"Chat","minReplicaCount":1,"maxReplicaCount":2,"autoscalingPolicy":{"scaleUpWindow":"60s","scaleToZeroWindow":"7200s"},"unusedAutoDeleteDuration":"0s","acceleratorType":"CPU","acceleratorCount":2,"enableAddons":true,"precision":"FP16"}""",
            post.BodyText);
        Assert.Contains("State:                       CREATING\n", result.Stdout);
        Assert.Single(cli.Server.Calls("GET", "/v1/whoami"));
    }

    [Fact]
    public async Task CreateFromAFileWithFlagsOverridingItsFields()
    {
        using var cli = new CliHarness();
        cli.Server.On("POST", Deployments, Samples.Deployment("CREATING", 0, 1).ToJsonString());
        var file = Path.Combine(cli.TempDirectory, "deployment.json");
        File.WriteAllText(file, """{"baseModel":"accounts/acme/models/llama","displayName":"From file","minReplicaCount":1,"autoscalingPolicy":{"scaleUpWindow":"60s","loadTargets":{"default":0.9}}}""");

        var result = await cli.RunAsync("create", "deployment", "--file", file, "--display-name", "Flag", "--description", "nightly jobs",
            "--load-targets", "default=0.5, requests_per_second=20", "--deployment-id", "chat");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal(
            """{"baseModel":"accounts/acme/models/llama","displayName":"Flag","minReplicaCount":1,"autoscalingPolicy":{"scaleUpWindow":"60s","loadTargets":{"default":0.5,"requests_per_second":20}},"description":"nightly jobs"}""",
            Assert.Single(cli.Server.Calls("POST", Deployments)).BodyText);
    }

    [Fact]
    public async Task MaxAddonCountIsSentAndShown()
    {
        using var cli = new CliHarness();
        var answer = Samples.Deployment("READY", 1, 1);
        answer["maxAddonCount"] = 4;
        cli.Server.On("PATCH", Chat, answer.ToJsonString());

        var result = await cli.RunAsync("update", "deployment", "chat", "--max-addon-count", "4");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("""{"maxAddonCount":4}""", Assert.Single(cli.Server.Calls("PATCH", Chat)).BodyText);
        Assert.Matches(@"Max Addon Count:\s+4\n", result.Stdout);
    }

    [Fact]
    public async Task DryRunPrintsTheRequestAndSendsNothing()
    {
        using var cli = new CliHarness();
        var result = await cli.RunAsync("create", "deployment", "accounts/acme/models/llama", "--deployment-id", "chat",
            "--min-replica-count", "1", "--dry-run", "-a", "acme");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.StartsWith("Dry run: would send POST ", result.Stdout);
        Assert.Contains("/v1/accounts/acme/deployments?deploymentId=chat\n", result.Stdout);
        Assert.Contains("\"minReplicaCount\": 1", result.Stdout);
        Assert.Empty(cli.Server.Requests);

        var update = await cli.RunAsync("update", "deployment", "accounts/acme/deployments/chat", "--description", "x", "--dry-run", "-o", "json");
        Assert.True(update.ExitCode == 0, update.Stderr);
        var printed = JsonNode.Parse(update.Stdout)!;
        Assert.Equal(("PATCH", "/v1/accounts/acme/deployments/chat", "x"), ((string?)printed["method"], (string?)printed["path"], (string?)printed["body"]!["description"]));
        Assert.Empty(cli.Server.Requests);
    }

    [Theory]
    [InlineData("--load-targets", "default", "kilnctl: --load-targets: expected key=value pairs separated by commas (e.g. default=0.8,requests_per_second=20), got \"default\"\n")]
    [InlineData("--load-targets", "default=high", "kilnctl: --load-targets: the value of default must be a number, got \"high\"\n")]
    [InlineData("--file", "/nonexistent/deployment.json", "kilnctl: --file: cannot read /nonexistent/deployment.json: ")]
    [InlineData("--max-addon-count", "0", "kilnctl: --max-addon-count: invalid value \"0\" (expected an integer from 1 to 1000)\n")]
    [InlineData("--max-addon-count", "-3", "kilnctl: --max-addon-count: invalid value \"-3\" (expected an integer from 1 to 1000)\n")]
    public async Task BadFileAndLoadTargetsAreUsageErrors(string flag, string value, string message)
    {
        using var cli = new CliHarness();
        var result = await cli.RunAsync("create", "deployment", "llama", flag, value);
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith(message, result.Stderr);
        Assert.Empty(cli.Server.Calls("POST", Deployments));
    }

    [Fact]
    public async Task CreateWithDefaultsSendsOnlyTheModel()
    {
        using var cli = new CliHarness();
        cli.Server.On("POST", Deployments, Samples.Deployment("CREATING", 0, 1).ToJsonString());

        var result = await cli.RunAsync("create", "deployment", "llama");

        Assert.Equal(0, result.ExitCode);
        var post = Assert.Single(cli.Server.Calls("POST", Deployments));
        Assert.Equal("", post.Query);
        Assert.Equal("""{"baseModel":"accounts/acme/models/llama"}""", post.BodyText);
    }

    [Fact]
    public async Task FullModelNameIsUsedAsGivenAndAccountFlagSkipsWhoami()
    {
        using var cli = new CliHarness();
        cli.Server.On("POST", "/v1/accounts/team/deployments", Samples.Deployment("CREATING", 0, 1).ToJsonString());

        var result = await cli.RunAsync("create", "deployment", "accounts/shared/models/llama", "-a", "team");

        Assert.Equal(0, result.ExitCode);
        var post = Assert.Single(cli.Server.Calls("POST", "/v1/accounts/team/deployments"));
        Assert.Equal("accounts/shared/models/llama", post.Json["baseModel"]!.ToString());
        Assert.Empty(cli.Server.Calls("GET", "/v1/whoami"));
    }

    [Fact]
    public async Task WaitFollowsCreatingToReady()
    {
        using var cli = new CliHarness();
        cli.Server.On("POST", Deployments, Samples.Deployment("CREATING", 0, 1).ToJsonString());
        cli.Server.On("GET", Chat,
            Samples.Deployment("CREATING", 0, 1).ToJsonString(),
            Samples.Deployment("CREATING", 0, 1, initializing: 1).ToJsonString(),
            Samples.Deployment("CREATING", 0, 1, initializing: 1).ToJsonString(),
            Samples.Deployment("READY", 1, 1).ToJsonString());

        var result = await cli.RunAsync("create", "deployment", "llama", "--deployment-id", "chat", "--wait");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(
            "State: CREATING  replicas 0/1 ready\n" +
            "State: CREATING  replicas 0/1 ready (1 initializing)\n" +
            "State: READY  replicas 1/1 ready\n",
            result.Stderr);
        Assert.Contains("State:                       READY\n", result.Stdout);
        Assert.Equal(4, cli.Server.Calls("GET", Chat).Count());
    }

    [Fact]
    public async Task WaitRewritesOneStatusLineOnATerminal()
    {
        using var cli = new CliHarness { Terminal = true };
        cli.Server.On("POST", Deployments, Samples.Deployment("CREATING", 0, 1).ToJsonString());
        cli.Server.On("GET", Chat, Samples.Deployment("CREATING", 0, 1).ToJsonString(), Samples.Deployment().ToJsonString());

        var result = await cli.RunAsync("create", "deployment", "llama", "--wait");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("\rState: CREATING  replicas 0/1 ready\u001b[K\rState: READY  replicas 1/1 ready\u001b[K\n", result.Stderr);
    }

    [Fact]
    public async Task WaitExitsNonZeroWithTheStatusMessageOnFailed()
    {
        using var cli = new CliHarness();
        cli.Server.On("POST", Deployments, Samples.Deployment("CREATING", 0, 1).ToJsonString());
        cli.Server.On("GET", Chat,
            Samples.Deployment("CREATING", 0, 1).ToJsonString(),
            Samples.Deployment("FAILED", 0, 1, statusMessage: "model failed to load: unsupported architecture").ToJsonString());

        var result = await cli.RunAsync("create", "deployment", "llama", "--wait");

        Assert.Equal(1, result.ExitCode);
        Assert.EndsWith(
            "kilnctl: deployment accounts/acme/deployments/chat FAILED: FAILED_PRECONDITION: model failed to load: unsupported architecture\n",
            result.Stderr);
        Assert.Equal("", result.Stdout);
    }

    [Fact]
    public async Task WaitTimesOutWithAClearMessage()
    {
        using var cli = new CliHarness();
        cli.Server.On("POST", Deployments, Samples.Deployment("CREATING", 0, 1).ToJsonString());
        cli.Server.On("GET", Chat, Samples.Deployment("CREATING", 0, 1).ToJsonString());

        var result = await cli.RunAsync("create", "deployment", "llama", "--wait", "--wait-timeout", "100ms");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(
            "kilnctl: timed out after 100ms waiting for deployment accounts/acme/deployments/chat to become READY" +
            " (last seen: State: CREATING  replicas 0/1 ready)\n",
            result.Stderr);
    }

    [Fact]
    public async Task WaitRidesOutServerTrouble()
    {
        using var cli = new CliHarness();
        cli.Server.On("POST", Deployments, Samples.Deployment("CREATING", 0, 1).ToJsonString());
        cli.Server.On("GET", Chat,
            _ => (503, """{"code":"UNAVAILABLE","message":"restarting"}"""),
            _ => (200, Samples.Deployment().ToJsonString()));

        var result = await cli.RunAsync("create", "deployment", "llama", "--wait");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Waiting for the server: UNAVAILABLE: restarting\n", result.Stderr);
    }

    [Fact]
    public async Task BadWaitTimeoutIsAUsageErrorBeforeAnyRequest()
    {
        using var cli = new CliHarness();
        var result = await cli.RunAsync("create", "deployment", "llama", "--wait", "--wait-timeout", "soon");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("kilnctl: --wait-timeout: invalid duration \"soon\" (use Go duration syntax such as 30s, 10m, 1h30m)\n", result.Stderr);
        Assert.Empty(cli.Server.Requests);
    }

    [Theory]
    [InlineData("--min-replica-count", "-2", "--min-replica-count: invalid value \"-2\"")]
    [InlineData("--max-replica-count", "1.5", "--max-replica-count: invalid value \"1.5\"")]
    [InlineData("--scale-up-window", "abc", "--scale-up-window: invalid duration \"abc\" (use Go duration syntax such as 30s, 10m, 1h30m)")]
    [InlineData("--scale-down-window", "-10m", "--scale-down-window: duration must not be negative")]
    [InlineData("--world-size", "3", "--world-size: invalid value \"3\" (expected a power of two from 1 to 8")]
    [InlineData("--accelerator-type", "TPU_V5", "--accelerator-type: unknown accelerator type \"TPU_V5\" (allowed: NVIDIA_A100_80GB,")]
    [InlineData("--precision", "bf16", "--precision: unknown precision \"bf16\" (allowed: FP32, FP16)")]
    public async Task BadFlagValuesExitTwoNamingTheFlag(string flag, string value, string expected)
    {
        using var cli = new CliHarness();
        var result = await cli.RunAsync("create", "deployment", "llama", flag, value);

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("kilnctl: ", result.Stderr);
        Assert.Contains(expected, result.Stderr);
        Assert.Empty(cli.Server.Requests);
    }

    [Fact]
    public async Task MaxBelowMinIsAUsageError()
    {
        using var cli = new CliHarness();
        var result = await cli.RunAsync("update", "deployment", "chat", "--min-replica-count", "3", "--max-replica-count", "1");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("kilnctl: --max-replica-count (1) must not be less than --min-replica-count (3)\n", result.Stderr);
    }

    [Fact]
    public async Task ServerErrorsPrintCodeAndMessageAndExitOne()
    {
        using var cli = new CliHarness();
        cli.Server.OnStatus("GET", "/v1/accounts/acme/deployments/x", 404, """{"code":"NOT_FOUND","message":"deployment \"x\" not found"}""");

        var result = await cli.RunAsync("get", "deployment", "x");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("kilnctl: NOT_FOUND: deployment \"x\" not found\n", result.Stderr);
        Assert.Equal("", result.Stdout);
    }

    [Fact]
    public async Task NonApiErrorBodiesStillReport()
    {
        using var cli = new CliHarness();
        cli.Server.OnStatus("GET", Chat, 502, "Bad Gateway");

        var result = await cli.RunAsync("get", "deployment", "chat");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("kilnctl: HTTP 502: Bad Gateway\n", result.Stderr);
    }

    [Fact]
    public async Task GetAcceptsAFullNameAndPrintsJson()
    {
        using var cli = new CliHarness();
        var deployment = Samples.Deployment();
        cli.Server.On("GET", "/v1/accounts/other/deployments/chat", deployment.ToJsonString());

        var result = await cli.RunAsync("get", "deployment", "accounts/other/deployments/chat", "-o", "json");

        Assert.Equal(0, result.ExitCode);
        Assert.True(JsonNode.DeepEquals(deployment, JsonNode.Parse(result.Stdout)));
        Assert.Contains("\n  \"name\": \"accounts/acme/deployments/chat\",\n", result.Stdout);
        Assert.Empty(cli.Server.Calls("GET", "/v1/whoami"));
    }

    [Fact]
    public async Task MalformedFullNameIsAUsageError()
    {
        using var cli = new CliHarness();
        var result = await cli.RunAsync("get", "deployment", "accounts/acme/models/llama");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("DEPLOYMENT_ID: \"accounts/acme/models/llama\" is neither an ID nor a name of the form accounts/<ACCOUNT_ID>/deployments/<ID>", result.Stderr);
    }

    [Fact]
    public async Task ListFollowsNextPageToken()
    {
        using var cli = new CliHarness();
        cli.Server.On("GET", Deployments, request => request.Query.Contains("pageToken=p2")
            ? (200, new JsonObject { ["deployments"] = new JsonArray(Samples.Deployment(id: "b")), ["nextPageToken"] = "", ["totalSize"] = 2 }.ToJsonString())
            : (200, new JsonObject { ["deployments"] = new JsonArray(Samples.Deployment(id: "a")), ["nextPageToken"] = "p2", ["totalSize"] = 2 }.ToJsonString()));

        var result = await cli.RunAsync("list", "deployments");

        Assert.Equal(0, result.ExitCode);
        var calls = cli.Server.Calls("GET", Deployments).ToList();
        Assert.Equal(2, calls.Count);
        Assert.Equal("?pageSize=200", calls[0].Query);
        Assert.Equal("?pageSize=200&pageToken=p2", calls[1].Query);
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("NAME", lines[0]);
        Assert.StartsWith("accounts/acme/deployments/a ", lines[1]);
        Assert.StartsWith("accounts/acme/deployments/b ", lines[2]);
        Assert.Contains(" READY ", lines[2]);
        Assert.Contains(" 1/1 ", lines[2]);
    }

    [Fact]
    public async Task ListJsonHoldsEveryPageAndShowDeletedIsPassed()
    {
        using var cli = new CliHarness();
        cli.Server.On("GET", Deployments, request => request.Query.Contains("pageToken=p2")
            ? (200, new JsonObject { ["deployments"] = new JsonArray(Samples.Deployment("DELETED", 0, 0, id: "b")) }.ToJsonString())
            : (200, new JsonObject { ["deployments"] = new JsonArray(Samples.Deployment(id: "a")), ["nextPageToken"] = "p2" }.ToJsonString()));

        var result = await cli.RunAsync("list", "deployments", "--show-deleted", "-o", "json");

        Assert.Equal(0, result.ExitCode);
        Assert.All(cli.Server.Calls("GET", Deployments), r => Assert.Contains("showDeleted=true", r.Query));
        var items = JsonNode.Parse(result.Stdout)!["deployments"]!.AsArray();
        Assert.Equal(["accounts/acme/deployments/a", "accounts/acme/deployments/b"], items.Select(i => i!["name"]!.ToString()));
    }

    [Fact]
    public async Task UpdateSendsOnlyTheGivenFlags()
    {
        using var cli = new CliHarness();
        cli.Server.On("PATCH", Chat, Samples.Deployment("UPDATING").ToJsonString());

        var result = await cli.RunAsync("update", "deployment", "chat", "--max-replica-count", "3", "--scale-down-window", "5m",
            "--enable-addons", "false", "--precision", "FP32");

        Assert.Equal(0, result.ExitCode);
        var patch = Assert.Single(cli.Server.Calls("PATCH", Chat));
        Assert.Equal("""{"maxReplicaCount":3,"autoscalingPolicy":{"scaleDownWindow":"300s"},"enableAddons":false,"precision":"FP32"}""", patch.BodyText);
        Assert.Contains("State:                       UPDATING\n", result.Stdout);
    }

    [Fact]
    public async Task UpdateWithoutFlagsIsAUsageError()
    {
        using var cli = new CliHarness();
        var result = await cli.RunAsync("update", "deployment", "chat");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("nothing to update", result.Stderr);
        Assert.Empty(cli.Server.Requests);
    }

    [Fact]
    public async Task ScaleAsksForTheCountAndWaitsUntilItIsSet()
    {
        using var cli = new CliHarness();
        cli.Server.On("POST", Chat + ":scale", $$"""{"deployment":{{Samples.Deployment("READY").ToJsonString()}},"replicaCount":2,"autoscaler":"the autoscaler sets the desired replica count to 2 at once; then ..."}""");
        cli.Server.On("GET", Chat, Samples.Deployment("READY").ToJsonString(), Samples.Deployment("READY", 1, 2).ToJsonString(), Samples.Deployment("READY", 2, 2).ToJsonString());

        var result = await cli.RunAsync("scale", "deployment", "chat", "--replica-count", "2", "--wait");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("""{"replicaCount":2}""", Assert.Single(cli.Server.Calls("POST", Chat + ":scale")).BodyText);
        Assert.Empty(cli.Server.Calls("PATCH", Chat));
        Assert.StartsWith("Requested 2 replica(s) for deployment accounts/acme/deployments/chat.\nNext: the autoscaler sets the desired replica count to 2 at once; then ....\n", result.Stdout);
        Assert.Equal(3, cli.Server.Calls("GET", Chat).Count());
        Assert.Contains("State: READY  replicas 2/2 ready", result.Stderr);
    }

    [Fact]
    public async Task ScaleRejectsABadCount()
    {
        using var cli = new CliHarness();
        var result = await cli.RunAsync("scale", "deployment", "chat", "--replica-count", "-1");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("kilnctl: --replica-count: invalid value \"-1\" (expected a non-negative integer)\n", result.Stderr);
    }

    [Fact]
    public async Task DeleteWaitsUntilGone()
    {
        using var cli = new CliHarness();
        cli.Server.On("DELETE", Chat, Samples.Deployment("DELETING").ToJsonString());
        cli.Server.On("GET", Chat,
            _ => (200, Samples.Deployment("DELETING", 0, 0).ToJsonString()),
            _ => (404, """{"code":"NOT_FOUND","message":"deployment \"chat\" not found"}"""));

        var result = await cli.RunAsync("delete", "deployment", "chat", "--wait");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("Deployment accounts/acme/deployments/chat is DELETED.\n", result.Stdout);
        Assert.Equal("State: DELETING  replicas 0/0 ready\n", result.Stderr);
    }

    [Fact]
    public async Task DeleteWaitAcceptsTheDeletedState()
    {
        using var cli = new CliHarness();
        cli.Server.On("DELETE", Chat, Samples.Deployment("DELETING").ToJsonString());
        cli.Server.On("GET", Chat, Samples.Deployment("DELETED", 0, 0).ToJsonString());

        var result = await cli.RunAsync("delete", "deployment", "chat", "--wait");

        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task DeleteWithoutWaitReportsDeleting()
    {
        using var cli = new CliHarness();
        cli.Server.On("DELETE", Chat, Samples.Deployment("DELETING").ToJsonString());

        var result = await cli.RunAsync("delete", "deployment", "chat");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("Deployment accounts/acme/deployments/chat is DELETING.\n", result.Stdout);
        Assert.Empty(cli.Server.Calls("GET", Chat));
    }
}
