using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace Kiln.ControlPlane.Tests;

/// <summary>
/// <c>kiln server --model-distribution download</c> with real replicas on this machine: each fetches
/// the model from the control plane into the node cache, shows as downloading meanwhile, and a
/// second replica reuses the cached file.
/// </summary>
public class ModelDownloadEndToEndTests
{
    private const string Path = "/v1/accounts/default/deployments/dl";

    [SharedFact]
    public async Task Replicas_download_the_model_into_the_node_cache_and_serve_it()
    {
        // About a second per download of the 1.2 MB model: long enough to watch, short enough not to slow the suite.
        using var server = await KilnServer.StartAsync(
            "--model-distribution", "download", "--model-cache", $"{KilnServer.DataDirPlaceholder}/node-cache",
            "--model-download-bytes-per-second", "1000000");
        using var api = new Api(server.BaseUri, server.AdminKey);
        var bytes = TestModels.Stories260K();
        Assert.Equal("READY", (await Steps.ImportAsync(api, "default", "stories", bytes)).State());
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        var cached = System.IO.Path.Combine(server.DataDir, "node-cache", "sha256", sha + ".gguf");

        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync("/v1/accounts/default/deployments?deploymentId=dl",
            new { baseModel = "accounts/default/models/stories" })).Status);
        var sawCount = false;
        string? progress = null;
        var ready = await Steps.WaitForAsync(api, Path, r =>
        {
            if (r.Body.GetProperty("replicaStats").GetProperty("downloadingModelReplicaCount").GetInt32() > 0) sawCount = true;
            if (r.Body.GetProperty("status").GetProperty("message").GetString() is { } m && m.Contains("downloading the model: ")) progress = m;
            return r.State() == "READY";
        }, "READY after a download");
        Assert.True(sawCount, "replicaStats.downloadingModelReplicaCount was never above 0");
        Assert.NotNull(progress);
        Assert.Matches(@"downloading the model: \d+\.\d of 1\.2 MB \(\d+%\)", progress);
        Assert.True(ready.HasEvent("ReplicaDownloading") && ready.HasEvent("ReplicaDownloaded"), ready.ToString());
        Assert.Equal(bytes, await File.ReadAllBytesAsync(cached));
        var written = File.GetLastWriteTimeUtc(cached);

        using (var inference = new Inference(server.BaseUri, server.AdminKey))
        {
            var answer = await inference.PostAsync("/v1/completions", new { model = "accounts/default/models/stories", prompt = "Once upon a time", max_tokens = 8 });
            Assert.True(answer.Status == HttpStatusCode.OK, answer.Body.ToString());
            Assert.False(string.IsNullOrEmpty(answer.Body.GetProperty("choices")[0].GetProperty("text").GetString()));
        }

        // The replica's token travels in its environment, not on its command line, and only downloads.
        var (_, pid, _) = Assert.Single(ready.ReadyReplicas());
        Assert.DoesNotContain("kiln-replica.", await File.ReadAllTextAsync($"/proc/{pid}/cmdline"));
        var token = (await File.ReadAllTextAsync($"/proc/{pid}/environ")).Split('\0')
            .Single(v => v.StartsWith("KILN_MODEL_TOKEN=", StringComparison.Ordinal))["KILN_MODEL_TOKEN=".Length..];
        using (var http = new HttpClient { BaseAddress = server.BaseUri })
        {
            using var resume = new HttpRequestMessage(HttpMethod.Get, "/v1/accounts/default/models/stories:download");
            resume.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            resume.Headers.Range = new RangeHeaderValue(bytes.Length - 10, null);
            using var partial = await http.SendAsync(resume);
            Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
            Assert.Equal(bytes[^10..], await partial.Content.ReadAsByteArrayAsync());
            using var elsewhere = new HttpRequestMessage(HttpMethod.Get, "/v1/accounts/default/deployments");
            elsewhere.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var refused = await http.SendAsync(elsewhere);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }

        // A second replica on the node finds the file cached: no second download.
        Assert.Equal(HttpStatusCode.OK, (await api.PatchAsync(Path, new { minReplicaCount = 2, maxReplicaCount = 2 })).Status);
        var two = await Steps.WaitForAsync(api, Path, r => r.ReadyReplicas().Count == 2, "two ready replicas");
        var downloads = two.Body.GetProperty("events").EnumerateArray().Count(e => e.GetProperty("type").GetString() == "ReplicaDownloading");
        Assert.Equal(1, downloads);
        Assert.Equal(written, File.GetLastWriteTimeUtc(cached));
        Assert.Equal(2, Directory.GetFiles(System.IO.Path.GetDirectoryName(cached)!, "*.lease-*").Length);
    }
}
