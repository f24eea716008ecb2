using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Kiln.Cli.Tests;

public class AddonCommandTests
{
    private const string Models = "/v1/accounts/acme/models";
    private const string Upload = "/v1/accounts/acme/models/qv:upload";
    private const string Deployed = "/v1/accounts/acme/deployedModels";

    private static JsonObject Addon(string state = "READY", string? sha256 = null) => new()
    {
        ["name"] = "accounts/acme/models/qv",
        ["kind"] = "HF_PEFT_ADDON",
        ["baseModel"] = "accounts/acme/models/llama",
        ["state"] = state,
        ["sha256"] = sha256,
        ["sizeBytes"] = "19520",
        ["deployedModelRefs"] = new JsonArray(),
    };

    private static string DeployedModel(string state) => new JsonObject
    {
        ["name"] = "accounts/acme/deployedModels/dm1",
        ["model"] = "accounts/acme/models/qv",
        ["deployment"] = "accounts/acme/deployments/chat",
        ["state"] = state,
        ["createTime"] = "2026-11-21T09:30:00Z",
        ["updateTime"] = "2026-11-21T09:31:00Z",
    }.ToJsonString();

    /// <summary>The server side of an addon upload: READY with the weights' hash once the weights arrive.</summary>
    private static void AcceptUploads(CliHarness cli)
    {
        cli.Server.On("POST", Models, Addon("UPLOADING").ToJsonString());
        cli.Server.On("PUT", Upload, request => request.Query.Contains("adapter_config.json")
            ? (200, Addon("UPLOADING").ToJsonString())
            : (200, Addon(sha256: Convert.ToHexStringLower(SHA256.HashData(request.Body))).ToJsonString()));
    }

    private static string WriteGguf(CliHarness cli)
    {
        var path = Path.Combine(cli.TempDirectory, "qv.gguf");
        File.WriteAllBytes(path, [.. "GGUF"u8, 1, 2, 3, 4]);
        return path;
    }

    [Fact]
    public async Task CreateModelUploadsAGgufAddonOnItsBase()
    {
        using var cli = new CliHarness();
        AcceptUploads(cli);

        var result = await cli.RunAsync("create", "model", "qv", "--base-model", "llama", "--from", WriteGguf(cli));

        Assert.Equal(0, result.ExitCode);
        var create = Assert.Single(cli.Server.Calls("POST", Models));
        Assert.Equal("?modelId=qv", create.Query);
        Assert.Equal("""{"kind":"HF_PEFT_ADDON","baseModel":"accounts/acme/models/llama"}""", create.BodyText);
        Assert.Equal("", Assert.Single(cli.Server.Calls("PUT", Upload)).Query);
        Assert.Contains("HF_PEFT_ADDON", result.Stdout);
        Assert.Matches(@"Base Model:\s+accounts/acme/models/llama", result.Stdout);
    }

    [Fact]
    public async Task CreateModelSendsAPeftFolderFileByFile()
    {
        using var cli = new CliHarness();
        AcceptUploads(cli);
        var folder = Directory.CreateDirectory(Path.Combine(cli.TempDirectory, "peft")).FullName;
        File.WriteAllText(Path.Combine(folder, "adapter_config.json"), """{"peft_type":"LORA"}""");
        File.WriteAllBytes(Path.Combine(folder, "adapter_model.safetensors"), [8, 0, 0, 0, 0, 0, 0, 0]);

        var result = await cli.RunAsync("create", "model", "accounts/acme/models/qv", "--base-model", "accounts/acme/models/llama", "--from", folder);

        Assert.Equal(0, result.ExitCode);
        var uploads = cli.Server.Calls("PUT", Upload).ToList();
        Assert.Equal(["?file=adapter_config.json", "?file=adapter_model.safetensors"], uploads.Select(u => u.Query));
        Assert.Equal("""{"peft_type":"LORA"}""", uploads[0].BodyText);
        Assert.Contains("READY", result.Stdout);
    }

    [Fact]
    public async Task CreateModelRemovesTheAddonWhenTheServerRefusesTheAdapter()
    {
        using var cli = new CliHarness();
        cli.Server.On("POST", Models, Addon("UPLOADING").ToJsonString());
        cli.Server.OnStatus("PUT", Upload, 400, """{"code":"INVALID_ARGUMENT","message":"the addon does not fit base model accounts/acme/models/llama: tensor 'blk.0.attn_q.weight' has incorrect shape"}""");
        cli.Server.On("DELETE", "/v1/accounts/acme/models/qv", "{}");

        var result = await cli.RunAsync("create", "model", "qv", "--base-model", "llama", "--from", WriteGguf(cli));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("kilnctl: INVALID_ARGUMENT: the addon does not fit base model accounts/acme/models/llama: tensor 'blk.0.attn_q.weight'", result.Stderr);
        Assert.Single(cli.Server.Calls("DELETE", "/v1/accounts/acme/models/qv"));
    }

    [Fact]
    public async Task CreateModelChecksTheSourceBeforeAnyRequest()
    {
        using var cli = new CliHarness();
        var notGguf = Path.Combine(cli.TempDirectory, "notes.txt");
        File.WriteAllText(notGguf, "hello");
        var half = Directory.CreateDirectory(Path.Combine(cli.TempDirectory, "half")).FullName;
        File.WriteAllText(Path.Combine(half, "adapter_config.json"), "{}");

        var text = await cli.RunAsync("create", "model", "qv", "--base-model", "llama", "--from", notGguf);
        var folder = await cli.RunAsync("create", "model", "qv", "--base-model", "llama", "--from", half);
        var noBase = await cli.RunAsync("create", "model", "qv", "--from", notGguf);

        Assert.Equal((2, 2, 2), (text.ExitCode, folder.ExitCode, noBase.ExitCode));
        Assert.Contains("neither a LoRA GGUF file nor a PEFT folder", text.Stderr);
        Assert.Contains("has no adapter_model.safetensors", folder.Stderr);
        Assert.Contains("--base-model", noBase.Stderr);
        Assert.DoesNotContain(cli.Server.Requests, r => r.Path.StartsWith(Models, StringComparison.Ordinal));
    }

    [Fact]
    public async Task DeployPostsTheAddonAndDeploymentAndWaitsForDeployed()
    {
        using var cli = new CliHarness();
        cli.Server.On("POST", Deployed, DeployedModel("DEPLOYING"));
        cli.Server.On("GET", $"{Deployed}/dm1", DeployedModel("DEPLOYING"), DeployedModel("DEPLOYED"));

        var result = await cli.RunAsync("deploy", "qv", "--deployment-id", "chat", "--wait");

        Assert.Equal(0, result.ExitCode);
        var post = Assert.Single(cli.Server.Calls("POST", Deployed));
        Assert.Equal("""{"model":"accounts/acme/models/qv","deployment":"accounts/acme/deployments/chat"}""", post.BodyText);
        Assert.Equal(2, cli.Server.Calls("GET", $"{Deployed}/dm1").Count());
        Assert.Matches(@"State:\s+DEPLOYED", result.Stdout);
    }

    [Fact]
    public async Task DeployShowsTheServersRefusal()
    {
        using var cli = new CliHarness();
        cli.Server.OnStatus("POST", Deployed, 400,
            """{"code":"FAILED_PRECONDITION","message":"deployment accounts/acme/deployments/chat does not have addons enabled"}""");

        var result = await cli.RunAsync("deploy", "qv", "--deployment-id", "accounts/acme/deployments/chat");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("kilnctl: FAILED_PRECONDITION: deployment accounts/acme/deployments/chat does not have addons enabled\n", result.Stderr);
        var missing = await cli.RunAsync("deploy", "qv");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("--deployment-id", missing.Stderr);
    }

    [Fact]
    public async Task UndeployFindsTheDeployedModelDeletesItAndWaitsUntilGone()
    {
        using var cli = new CliHarness();
        cli.Server.On("GET", Deployed, $$"""{"deployedModels":[{{DeployedModel("DEPLOYED")}}],"nextPageToken":"","totalSize":1}""");
        cli.Server.On("DELETE", $"{Deployed}/dm1", DeployedModel("UNDEPLOYING"));
        cli.Server.On("GET", $"{Deployed}/dm1", request => (200, DeployedModel("UNDEPLOYING")),
            request => (404, """{"code":"NOT_FOUND","message":"deployed model accounts/acme/deployedModels/dm1 not found"}"""));

        var result = await cli.RunAsync("undeploy", "qv", "--deployment-id", "chat", "--wait");

        Assert.Equal(0, result.ExitCode);
        var list = Assert.Single(cli.Server.Calls("GET", Deployed));
        Assert.Contains("model=accounts%2Facme%2Fmodels%2Fqv&deployment=accounts%2Facme%2Fdeployments%2Fchat", list.Query);
        Assert.Single(cli.Server.Calls("DELETE", $"{Deployed}/dm1"));
        Assert.Equal("Undeployed accounts/acme/models/qv from accounts/acme/deployments/chat.\n", result.Stdout);
    }

    [Fact]
    public async Task UndeployOfAnAddonThatIsNotThereFails()
    {
        using var cli = new CliHarness();
        cli.Server.On("GET", Deployed, """{"deployedModels":[],"nextPageToken":"","totalSize":0}""");

        var result = await cli.RunAsync("undeploy", "qv", "--deployment-id", "chat");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("accounts/acme/models/qv is not deployed on accounts/acme/deployments/chat", result.Stderr);
        Assert.Empty(cli.Server.Calls("DELETE", $"{Deployed}/dm1"));
    }

    [Fact]
    public async Task ListDeployedModelsPrintsATable()
    {
        using var cli = new CliHarness();
        cli.Server.On("GET", Deployed, $$"""{"deployedModels":[{{DeployedModel("DEPLOYED")}}],"nextPageToken":"","totalSize":1}""");

        var result = await cli.RunAsync("list", "deployed-models");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("NAME", result.Stdout);
        Assert.Matches(@"accounts/acme/deployedModels/dm1\s+accounts/acme/models/qv\s+accounts/acme/deployments/chat\s+DEPLOYED", result.Stdout);
    }
}
