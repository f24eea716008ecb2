using System.Net;
using System.Security.Cryptography;
using System.Text.Json;

namespace Kiln.ControlPlane.Tests;

/// <summary>
/// Models the server downloads (a URL, hf:// or a catalog ID), over REST and with kilnctl, from a
/// local file host that cuts connections, answers 404 and sends wrong bytes: resumes with a range,
/// checks the SHA-256, fails cleanly and leaves no partial data behind. One server for the class.
/// </summary>
public sealed class ModelSourceImportTests(ModelSourceImportTests.Fixture fixture) : IClassFixture<ModelSourceImportTests.Fixture>
{
    private const string Models = "/v1/accounts/default/models";

    /// <summary>The file host and one server (a test catalog, hf:// pointed at the host, quick retries) for the whole class.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        private readonly string _catalog = Path.Combine(Path.GetTempPath(), $"kiln-catalog-{Guid.NewGuid():N}.json");
        public ModelFileHost Host { get; } = new();
        public byte[] Tiny { get; } = TestModels.Tiny();
        public KilnServer Server { get; private set; } = null!;
        public Api Api { get; private set; } = null!;
        public Kilnctl Ctl { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            File.WriteAllText(_catalog, $$"""
                { "models": [
                  { "id": "tiny-chat", "name": "Tiny Chat", "source": "hf://acme/Tiny-GGUF/hub-tiny.gguf", "quantization": "F32",
                    "architecture": "llama", "license": "mit", "contextLength": 64, "chatTemplate": false },
                  { "id": "tiny-pinned", "name": "Tiny Pinned", "source": "{{Host.Url("pinned.gguf")}}", "quantization": "F32",
                    "architecture": "llama", "license": "mit", "contextLength": 64, "chatTemplate": false, "sha256": "{{new string('0', 64)}}" }
                ] }
                """);
            Host.Add("hub-tiny.gguf", Tiny);
            Host.Add("pinned.gguf", Tiny);
            Server = await KilnServer.StartAsync("--huggingface-url", Host.HubBase, "--catalog", _catalog,
                "--download-retry-delay", "100ms", "--download-attempts", "3", "--download-disk-reserve", "0");
            Api = new Api(Server.BaseUri, Server.AdminKey);
            Ctl = new Kilnctl(Server.BaseUri, Server.AdminKey, Kilnctl.NewConfigDir());
        }

        public Task DisposeAsync()
        {
            Api.Dispose();
            Server.Dispose();
            Host.Dispose();
            File.Delete(_catalog);
            return Task.CompletedTask;
        }
    }

    private readonly ModelFileHost _host = fixture.Host;
    private readonly byte[] _tiny = fixture.Tiny;
    private readonly KilnServer _server = fixture.Server;
    private readonly Api _api = fixture.Api;
    private readonly Kilnctl _ctl = fixture.Ctl;

    private async Task<Api.Reply> ImportAsync(string id, object body)
    {
        var created = await _api.PostAsync($"{Models}?modelId={id}", body);
        Assert.True(created.Status == HttpStatusCode.OK, created.ToString());
        Assert.Equal("DOWNLOADING", created.State());
        return await Steps.WaitForAsync(_api, $"{Models}/{id}", r => r.State() is "READY" or "FAILED", $"{id} imported or failed");
    }

    private static string Status(Api.Reply r, string field) => r.Body.GetProperty("status").GetProperty(field).GetString()!;

    private string DownloadsFolder => Path.Combine(_server.DataDir, "downloads", "default");

    private void AssertNoPartialData(string id)
    {
        Assert.False(File.Exists(Path.Combine(DownloadsFolder, id + ".gguf.part")), "a .part file was left");
        Assert.False(File.Exists(Path.Combine(DownloadsFolder, id + ".gguf.part.validator")), "a validator file was left");
    }

    [Fact]
    public async Task The_catalog_is_listed_filtered_and_shown_over_rest_and_kilnctl()
    {
        var all = await _api.GetAsync("/v1/catalog");
        Assert.Equal(["tiny-chat", "tiny-pinned"], all.Body.GetProperty("models").EnumerateArray().Select(m => m.GetProperty("id").GetString()));
        var pinned = await _api.GetAsync("/v1/catalog?name=PINNED");
        Assert.Equal("tiny-pinned", Assert.Single(pinned.Body.GetProperty("models").EnumerateArray()).GetProperty("id").GetString());
        var missing = await _api.GetAsync("/v1/catalog/nope");
        Assert.Equal((HttpStatusCode.NotFound, "NOT_FOUND"), (missing.Status, missing.Code));

        var table = await _ctl.OkAsync("list", "catalog", "--name", "chat");
        Assert.Contains("tiny-chat", table);
        Assert.DoesNotContain("tiny-pinned", table);
        Assert.Contains("Source:", await _ctl.OkAsync("get", "catalog", "tiny-chat"));
    }

    [Fact]
    public async Task An_interrupted_download_resumes_with_a_range_and_ends_with_the_right_sha256()
    {
        var file = _host.Add("cut.gguf", _tiny);
        file.CutResponses = 1;
        file.CutAfterBytes = 1000;
        var sha = Convert.ToHexStringLower(SHA256.HashData(_tiny));

        var model = await ImportAsync("cut", new { source = _host.Url("cut.gguf"), sha256 = sha });

        Assert.Equal("READY", model.State());
        Assert.Equal(sha, model.Str("sha256"));
        Assert.Equal("imported; SHA-256 verified against the expected SHA-256 (from the catalog or the import request)", Status(model, "message"));
        var requests = _host.RequestsFor("cut.gguf");
        Assert.Equal(2, requests.Count);
        Assert.Equal("", requests[0].Range);
        Assert.Equal("bytes=1000-", requests[1].Range);
        Assert.Equal("\"v1\"", requests[1].IfRange);
        Assert.Equal(_tiny, await File.ReadAllBytesAsync(Path.Combine(_server.DataDir, "models", "default", "cut.gguf")));
        AssertNoPartialData("cut");
    }

    [Fact]
    public async Task A_catalog_model_over_hf_is_checked_against_the_digest_the_hub_publishes()
    {
        var model = await ImportAsync("from-catalog", new { source = "tiny-chat" });

        Assert.Equal("READY", model.State());
        Assert.Equal(("Tiny Chat", "tiny-chat"), (model.Str("displayName"), model.Str("source")));
        Assert.Equal("imported; SHA-256 verified against the SHA-256 its source published", Status(model, "message"));
        Assert.Equal(["/hub/acme/Tiny-GGUF/resolve/main/hub-tiny.gguf", "/files/hub-tiny.gguf"],
            _host.RequestsFor("hub-tiny.gguf").Select(r => r.Path).Take(2));
    }

    [Fact]
    public async Task A_bad_checksum_fails_the_model_with_the_reason_and_leaves_no_file()
    {
        var model = await ImportAsync("pinned", new { source = "tiny-pinned" });

        Assert.Equal("FAILED", model.State());
        Assert.Equal("DATA_LOSS", Status(model, "code"));
        Assert.StartsWith("checksum mismatch: the downloaded file has SHA-256 ", Status(model, "message"));
        Assert.Contains($"but the expected SHA-256 (from the catalog or the import request) is {new string('0', 64)}", Status(model, "message"));
        AssertNoPartialData("pinned");
        Assert.False(File.Exists(Path.Combine(_server.DataDir, "models", "default", "pinned.gguf")));

        // The same through kilnctl, where the hub publishes the real digest but sends other bytes.
        var corrupt = _host.Add("corrupt.gguf", _tiny);
        corrupt.Corrupt = [.. _tiny.Select(b => (byte)(b ^ 1))];
        var r = await _ctl.RunAsync("import", "model", "corrupt", "--from", "hf://acme/Tiny-GGUF/corrupt.gguf", "--wait");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("kilnctl: model accounts/default/models/corrupt FAILED: DATA_LOSS: checksum mismatch", r.Stderr);
        AssertNoPartialData("corrupt");
    }

    [Fact]
    public async Task A_missing_file_and_a_connection_lost_past_the_retries_fail_clearly()
    {
        var missing = await ImportAsync("missing", new { source = _host.Url("nothing-here.gguf") });
        Assert.Equal(("FAILED", "NOT_FOUND"), (missing.State(), Status(missing, "code")));
        Assert.Equal($"{_host.Url("nothing-here.gguf")} was not found (HTTP 404 Not Found)", Status(missing, "message"));

        var dropped = _host.Add("dropped.gguf", _tiny);
        dropped.CutResponses = int.MaxValue;
        dropped.CutAfterBytes = 0;
        var lost = await ImportAsync("lost", new { source = _host.Url("dropped.gguf") });
        Assert.Equal(("FAILED", "UNAVAILABLE"), (lost.State(), Status(lost, "code")));
        Assert.StartsWith($"downloading {_host.Url("dropped.gguf")} failed 3 times in a row without progress", Status(lost, "message"));
        Assert.Equal(3, _host.RequestsFor("dropped.gguf").Count);
        AssertNoPartialData("lost");

        var r = await _ctl.RunAsync("import", "model", "missing-too", "--from", _host.Url("nothing-either.gguf"), "--wait");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"FAILED: NOT_FOUND: {_host.Url("nothing-either.gguf")} was not found (HTTP 404 Not Found)", r.Stderr);
    }

    [Theory]
    [InlineData("""{"source": "ftp://host/x.gguf"}""", "source: \"ftp://host/x.gguf\": the scheme ftp:// is not supported")]
    [InlineData("""{"source": "no-such-model"}""", "source: \"no-such-model\" is not in the model catalog")]
    [InlineData("""{"source": "./model.gguf"}""", "source: \"./model.gguf\" is a local path")]
    [InlineData("""{"source": "tiny-chat", "sha256": "abc"}""", "sha256: must be 64 hex digits")]
    [InlineData("""{"sha256": "abc"}""", "sha256: only a model imported from a source")]
    public async Task A_bad_source_is_refused_at_once_and_creates_nothing(string body, string message)
    {
        var r = await _api.PostAsync($"{Models}?modelId=refused", body);
        Assert.Equal((HttpStatusCode.BadRequest, "INVALID_ARGUMENT"), (r.Status, r.Code));
        Assert.StartsWith(message, r.Message);
        Assert.Equal(HttpStatusCode.NotFound, (await _api.GetAsync($"{Models}/refused")).Status);
    }

    [Fact]
    public async Task Progress_shows_in_the_model_and_in_kilnctl_and_a_deletion_stops_the_download()
    {
        var slow = _host.Add("slow.gguf", _tiny);
        slow.ChunkDelay = TimeSpan.FromMilliseconds(300);

        // kilnctl --wait follows a slow catalog-free hf import to READY, printing progress lines.
        var r = await _ctl.RunAsync("import", "model", "slow", "--from", "hf://acme/Tiny-GGUF/slow.gguf", "--wait");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Matches(@"Downloading [\d.]+ k?B of [\d.]+ kB \(\d+%\)", r.Stderr);
        Assert.Contains("State:", r.Stdout);
        Assert.Contains("READY", r.Stdout);

        // REST shows bytes and the total while it downloads; get model shows them too; DELETE stops it and removes its data.
        var again = _host.Add("slower.gguf", _tiny);
        again.ChunkDelay = TimeSpan.FromSeconds(1);
        Assert.Equal("DOWNLOADING", (await _api.PostAsync($"{Models}?modelId=slower", new { source = _host.Url("slower.gguf") })).State());
        var moving = await Steps.WaitForAsync(_api, $"{Models}/slower",
            m => m.Body.TryGetProperty("download", out var d) && d.GetProperty("receivedBytes").GetInt64() > 0, "download progress");
        Assert.Equal(_tiny.Length, moving.Body.GetProperty("download").GetProperty("totalBytes").GetInt64());
        Assert.Matches(@"Download:\s+[\d.]+ k?B of [\d.]+ kB \(\d+%\)", await _ctl.OkAsync("get", "model", "slower"));
        Assert.Equal(HttpStatusCode.OK, (await _api.DeleteAsync($"{Models}/slower")).Status);
        await Wait.UntilAsync(() => !File.Exists(Path.Combine(DownloadsFolder, "slower.gguf.part")), Steps.Timeout, "the .part file to go");
        Assert.Equal(HttpStatusCode.NotFound, (await _api.GetAsync($"{Models}/slower")).Status);
    }

    [Fact]
    public async Task A_full_disk_fails_the_download_before_and_while_writing()
    {
        // A reserve larger than any disk: every download finds no room, whether its length is announced or not.
        using var server = await KilnServer.StartAsync("--download-disk-reserve", "1000000000000000000");
        using var api = new Api(server.BaseUri, server.AdminKey);
        var chunked = _host.Add("chunked.gguf", _tiny);
        chunked.OmitLength = true;
        foreach (var (id, name) in new[] { ("sized", "cut-free.gguf"), ("unsized", "chunked.gguf") })
        {
            _host.Add("cut-free.gguf", _tiny);
            Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"{Models}?modelId={id}", new { source = _host.Url(name) })).Status);
            var model = await Steps.WaitForAsync(api, $"{Models}/{id}", m => m.State() == "FAILED", $"{id} FAILED");
            Assert.Equal("RESOURCE_EXHAUSTED", Status(model, "code"));
            Assert.StartsWith("no space left on device for the download: needs ", Status(model, "message"));
            Assert.False(File.Exists(Path.Combine(server.DataDir, "downloads", "default", id + ".gguf.part")));
        }
        var ctl = new Kilnctl(server.BaseUri, server.AdminKey, Kilnctl.NewConfigDir());
        var r = await ctl.RunAsync("import", "model", "by-cli", "--from", _host.Url("cut-free.gguf"), "--wait");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("FAILED: RESOURCE_EXHAUSTED: no space left on device for the download", r.Stderr);
    }
}
