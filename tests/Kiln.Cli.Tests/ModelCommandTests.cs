using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Kiln.Cli.Tests;

public class ModelCommandTests
{
    private const string Models = "/v1/accounts/acme/models";
    private const string Upload = "/v1/accounts/acme/models/llama:upload";

    private static byte[] GgufBytes(int size)
    {
        var bytes = new byte[size];
        new Random(7).NextBytes(bytes);
        "GGUF"u8.CopyTo(bytes);
        return bytes;
    }

    /// <summary>The server side of an upload: hash what arrived and answer the READY model.</summary>
    private static void AcceptUploads(CliHarness cli)
    {
        cli.Server.On("POST", Models, Samples.Model("UPLOADING").ToJsonString());
        cli.Server.On("PUT", Upload, request =>
        {
            var model = Samples.Model(sha256: Convert.ToHexStringLower(SHA256.HashData(request.Body)));
            model["sizeBytes"] = request.Body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return (200, model.ToJsonString());
        });
    }

    [Fact]
    public async Task ImportStreamsTheFileAndPrintsTheSha256()
    {
        using var cli = new CliHarness();
        AcceptUploads(cli);
        var file = Path.Combine(cli.TempDirectory, "tiny.gguf");
        var bytes = GgufBytes(3_000_000);
        File.WriteAllBytes(file, bytes);

        var result = await cli.RunAsync("import", "model", "llama", "--from", file, "--display-name", "Llama");

        Assert.Equal(0, result.ExitCode);
        var create = Assert.Single(cli.Server.Calls("POST", Models));
        Assert.Equal("?modelId=llama", create.Query);
        Assert.Equal("""{"displayName":"Llama"}""", create.BodyText);
        var upload = Assert.Single(cli.Server.Calls("PUT", Upload));
        Assert.Equal("application/octet-stream", upload.ContentType);
        Assert.Equal(bytes.Length, upload.ContentLength);
        Assert.True(upload.BodyWasStreamed);
        Assert.Equal(bytes, upload.Body);
        Assert.Contains($"SHA-256:        {Convert.ToHexStringLower(SHA256.HashData(bytes))}\n", result.Stdout);
        Assert.Matches(@"^Uploaded 3\.0 MB in \d+\.\ds \(\d+\.\d MB/s\)\n$", result.Stderr);
    }

    [Fact]
    public async Task ImportShowsAProgressBarOnATerminal()
    {
        using var cli = new CliHarness { Terminal = true };
        AcceptUploads(cli);
        var file = Path.Combine(cli.TempDirectory, "tiny.gguf");
        File.WriteAllBytes(file, GgufBytes(2_500_000));

        var result = await cli.RunAsync("import", "model", "llama", "--from", file);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("\rUploading 100% [========================] 2.5 MB / 2.5 MB", result.Stderr);
        Assert.Contains("Uploaded 2.5 MB in ", result.Stderr);
    }

    private static string Downloading(long received, long? total, long? rate, string? eta)
    {
        var model = Samples.Model("DOWNLOADING");
        model["source"] = "hf://acme/tiny-GGUF/tiny.gguf";
        model["download"] = new JsonObject { ["receivedBytes"] = received, ["totalBytes"] = total, ["bytesPerSecond"] = rate, ["eta"] = eta };
        return model.ToJsonString();
    }

    [Fact]
    public async Task ImportFromAUrlAsksTheServerToDownloadItAndReturnsAtOnce()
    {
        using var cli = new CliHarness();
        cli.Server.On("POST", Models, Downloading(0, null, null, null));

        var result = await cli.RunAsync("import", "model", "llama", "--from", "https://models.example/tiny.gguf", "--sha256", new string('A', 64));

        Assert.Equal(0, result.ExitCode);
        var create = Assert.Single(cli.Server.Calls("POST", Models));
        Assert.Equal("?modelId=llama", create.Query);
        Assert.Equal($$"""{"source":"https://models.example/tiny.gguf","sha256":"{{new string('a', 64)}}"}""", create.BodyText);
        Assert.DoesNotContain(cli.Server.Requests, r => r.Url.Host == "models.example");
        Assert.Contains("State:          DOWNLOADING\n", result.Stdout);
        Assert.Contains("kilnctl get model llama", result.Stderr);
    }

    [Fact]
    public async Task ImportWithWaitShowsProgressUntilTheModelIsReady()
    {
        using var cli = new CliHarness();
        cli.Server.On("POST", Models, Downloading(0, null, null, null));
        cli.Server.On("GET", $"{Models}/llama", Downloading(5_000_000, 10_000_000, 1_000_000, "5s"), Samples.Model().ToJsonString());

        var result = await cli.RunAsync("import", "model", "llama", "--from", "hf://acme/tiny-GGUF/tiny.gguf", "--wait");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("""{"source":"hf://acme/tiny-GGUF/tiny.gguf"}""", Assert.Single(cli.Server.Calls("POST", Models)).BodyText);
        Assert.Contains("Downloading 5.0 MB of 10.0 MB (50%), 1.0 MB/s, 5s left\n", result.Stderr);
        Assert.Contains("State:          READY\n", result.Stdout);
    }

    [Fact]
    public async Task ImportWithWaitFailsWithTheServersReason()
    {
        using var cli = new CliHarness();
        cli.Server.On("POST", Models, Downloading(0, null, null, null));
        var failed = Samples.Model("FAILED");
        failed["status"] = new JsonObject { ["code"] = "NOT_FOUND", ["message"] = "https://models.example/x.gguf was not found (HTTP 404 Not Found)" };
        cli.Server.On("GET", $"{Models}/llama", failed.ToJsonString());

        var result = await cli.RunAsync("import", "model", "llama", "--from", "https://models.example/x.gguf", "--wait");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("kilnctl: model accounts/acme/models/llama FAILED: NOT_FOUND: https://models.example/x.gguf was not found (HTTP 404 Not Found)\n", result.Stderr);
    }

    [Fact]
    public async Task ImportOfACatalogIdAloneImportsThatCatalogModelUnderItsId()
    {
        using var cli = new CliHarness();
        cli.Server.On("POST", $"{Models}", Downloading(0, null, null, null));

        var result = await cli.RunAsync("import", "model", "tinyllama-1.1b-chat");

        Assert.Equal(0, result.ExitCode);
        var create = Assert.Single(cli.Server.Calls("POST", Models));
        Assert.Equal("?modelId=tinyllama-1.1b-chat", create.Query);
        Assert.Equal("""{"source":"tinyllama-1.1b-chat"}""", create.BodyText);
    }

    [Theory]
    [InlineData("ftp://models.example/x.gguf", "--from: \"ftp://models.example/x.gguf\": the scheme ftp:// is not supported; use https://, http:// or hf://")]
    [InlineData("hf://acme/x.gguf", "--from: \"hf://acme/x.gguf\": an hf:// source is hf://<owner>/<repo>[@<revision>]/<file>.gguf")]
    public async Task ImportRefusesAnUnusableSourceBeforeAnyRequest(string from, string message)
    {
        using var cli = new CliHarness();
        var result = await cli.RunAsync("import", "model", "llama", "--from", from);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"kilnctl: {message}\n", result.Stderr);
        Assert.Empty(cli.Server.Calls("POST", Models));
    }

    [Fact]
    public async Task ImportWithoutFromNeedsACatalogId()
    {
        using var cli = new CliHarness();
        var result = await cli.RunAsync("import", "model", "My_Model");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--from is required: \"My_Model\" is not a catalog ID", result.Stderr);
    }

    [Fact]
    public async Task ListCatalogShowsATableAndPassesTheNameFilter()
    {
        using var cli = new CliHarness();
        cli.Server.On("GET", "/v1/catalog", """
            {"models":[{"id":"qwen2.5-0.5b-instruct","name":"Qwen2.5 0.5B Instruct","source":"hf://Qwen/x/y.gguf","quantization":"Q4_K_M",
              "architecture":"qwen2","license":"apache-2.0","contextLength":32768,"chatTemplate":true,"sizeBytes":491000000,"sizeIsApproximate":true}],"totalSize":1}
            """);

        var result = await cli.RunAsync("list", "catalog", "--name", "qwen");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("?name=qwen", Assert.Single(cli.Server.Calls("GET", "/v1/catalog")).Query);
        var lines = result.Stdout.Split('\n');
        Assert.Matches(@"^ID\s+NAME\s+QUANT\s+SIZE\s+CONTEXT\s+CHAT\s+LICENSE$", lines[0]);
        Assert.Matches(@"^qwen2\.5-0\.5b-instruct\s+Qwen2\.5 0\.5B Instruct\s+Q4_K_M\s+~491\.0 MB\s+32768\s+yes\s+apache-2\.0$", lines[1]);
    }

    [Fact]
    public async Task ImportRejectsANonGgufFileBeforeAnyRequest()
    {
        using var cli = new CliHarness();
        var file = Path.Combine(cli.TempDirectory, "notes.txt");
        File.WriteAllText(file, "hello");

        var result = await cli.RunAsync("import", "model", "llama", "--from", file);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"kilnctl: --from: \"{file}\" is not a GGUF file (it does not start with the GGUF magic bytes)\n", result.Stderr);
        Assert.DoesNotContain(cli.Server.Requests, r => r.Method != "GET");
    }

    [Fact]
    public async Task ImportOfAMissingFileNamesTheFlag()
    {
        using var cli = new CliHarness();
        var result = await cli.RunAsync("import", "model", "llama", "--from", "/nonexistent/model.gguf");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("kilnctl: --from: file \"/nonexistent/model.gguf\" not found\n", result.Stderr);
    }

    [Fact]
    public async Task RejectedUploadRemovesTheHalfImportedModel()
    {
        using var cli = new CliHarness();
        cli.Server.On("POST", Models, Samples.Model("UPLOADING").ToJsonString());
        cli.Server.OnStatus("PUT", Upload, 400, """{"code":"INVALID_ARGUMENT","message":"not a text llama-family model: architecture clip"}""");
        cli.Server.On("DELETE", "/v1/accounts/acme/models/llama", "{}");
        var file = Path.Combine(cli.TempDirectory, "clip.gguf");
        File.WriteAllBytes(file, GgufBytes(1000));

        var result = await cli.RunAsync("import", "model", "llama", "--from", file);

        Assert.Equal(1, result.ExitCode);
        Assert.EndsWith("kilnctl: INVALID_ARGUMENT: not a text llama-family model: architecture clip\n", result.Stderr);
        Assert.Single(cli.Server.Calls("DELETE", "/v1/accounts/acme/models/llama"));
    }

    [Fact]
    public async Task DuplicateModelIdReportsTheConflictAndDeletesNothing()
    {
        using var cli = new CliHarness();
        cli.Server.OnStatus("POST", Models, 409, """{"code":"ALREADY_EXISTS","message":"model \"llama\" already exists"}""");
        var file = Path.Combine(cli.TempDirectory, "tiny.gguf");
        File.WriteAllBytes(file, GgufBytes(1000));

        var result = await cli.RunAsync("import", "model", "llama", "--from", file);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("kilnctl: ALREADY_EXISTS: model \"llama\" already exists\n", result.Stderr);
        Assert.DoesNotContain(cli.Server.Requests, r => r.Method is "DELETE" or "PUT");
    }

    [Fact]
    public async Task ShaMismatchFailsTheImport()
    {
        using var cli = new CliHarness();
        cli.Server.On("POST", Models, Samples.Model("UPLOADING").ToJsonString());
        cli.Server.On("PUT", Upload, Samples.Model(sha256: new string('0', 64)).ToJsonString());
        cli.Server.On("DELETE", "/v1/accounts/acme/models/llama", "{}");
        var file = Path.Combine(cli.TempDirectory, "tiny.gguf");
        File.WriteAllBytes(file, GgufBytes(1000));

        var result = await cli.RunAsync("import", "model", "llama", "--from", file);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("the upload was corrupted", result.Stderr);
    }

    [Fact]
    public async Task GetModelShowsDeployedAndItsDeployment()
    {
        using var cli = new CliHarness();
        cli.Server.On("GET", "/v1/accounts/acme/models/llama", Samples.Model("DEPLOYED").ToJsonString());

        var result = await cli.RunAsync("get", "model", "accounts/acme/models/llama");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("State:          DEPLOYED\n", result.Stdout);
        Assert.Contains("Deployments:\n  accounts/acme/deployments/chat  DEPLOYED\n", result.Stdout);
    }

    [Fact]
    public async Task ListModelsFollowsPages()
    {
        using var cli = new CliHarness();
        cli.Server.On("GET", Models, request => request.Query.Contains("pageToken=next")
            ? (200, new JsonObject { ["models"] = new JsonArray(Samples.Model(id: "b")), ["nextPageToken"] = "" }.ToJsonString())
            : (200, new JsonObject { ["models"] = new JsonArray(Samples.Model(id: "a")), ["nextPageToken"] = "next" }.ToJsonString()));

        var result = await cli.RunAsync("list", "models");

        Assert.Equal(0, result.ExitCode);
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["NAME", "accounts/acme/models/a", "accounts/acme/models/b"], lines.Select(l => l.Split(' ')[0]));
    }

    [Fact]
    public async Task DeleteModelInUseReportsThePrecondition()
    {
        using var cli = new CliHarness();
        cli.Server.OnStatus("DELETE", "/v1/accounts/acme/models/llama", 409,
            """{"code":"FAILED_PRECONDITION","message":"model \"llama\" is used by deployment \"chat\""}""");

        var result = await cli.RunAsync("delete", "model", "llama");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("kilnctl: FAILED_PRECONDITION: model \"llama\" is used by deployment \"chat\"\n", result.Stderr);
    }
}
