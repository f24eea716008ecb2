using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace Kiln.ControlPlane.Tests;

/// <summary><c>GET /v1/accounts/{a}/models/{m}:download</c> on a real server: auth, whole file, ranges, digest, errors.</summary>
public class ModelDownloadEndpointTests
{
    private const string Download = "/v1/accounts/default/models/tiny:download";

    private static async Task<(HttpStatusCode Status, byte[] Body, HttpResponseMessage Response)> GetAsync(
        KilnServer server, string path, string? key, string? range = null)
    {
        using var http = new HttpClient { BaseAddress = server.BaseUri, Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (key is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (range is not null) request.Headers.TryAddWithoutValidation("Range", range);
        var response = await http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsByteArrayAsync(), response);
    }

    [Fact]
    public async Task Serves_the_model_file_whole_or_by_range_with_its_digest_and_refuses_the_unauthenticated()
    {
        using var server = await KilnServer.StartWithFakeReplicaAsync();
        using var api = new Api(server.BaseUri, server.AdminKey);
        var bytes = TestModels.Tiny();
        Assert.Equal("READY", (await Steps.ImportAsync(api, "default", "tiny", bytes)).State());
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));

        // No key, a wrong key, a forged replica token: 401.
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(server, Download, null)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(server, Download, "kiln_nonsense")).Status);
        var forged = await GetAsync(server, Download, "kiln-replica.default.r-1." + new string('0', 64));
        Assert.Equal(HttpStatusCode.Unauthorized, forged.Status);
        Assert.Contains("invalid replica token", System.Text.Encoding.UTF8.GetString(forged.Body));

        // The whole file, with its length and SHA-256.
        var (status, body, response) = await GetAsync(server, Download, server.AdminKey);
        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(bytes, body);
            Assert.Equal(bytes.Length, response.Content.Headers.ContentLength);
            Assert.Equal(sha, response.Headers.GetValues("X-Kiln-Sha256").Single());
            Assert.Equal($"\"sha256:{sha}\"", response.Headers.ETag?.Tag);
            Assert.Equal("bytes", response.Headers.AcceptRanges.Single());
        }

        // A resumed download: 206 with the rest and its Content-Range.
        (status, body, response) = await GetAsync(server, Download, server.AdminKey, "bytes=100-");
        using (response)
        {
            Assert.Equal(HttpStatusCode.PartialContent, status);
            Assert.Equal(bytes[100..], body);
            Assert.Equal($"bytes 100-{bytes.Length - 1}/{bytes.Length}", response.Content.Headers.ContentRange?.ToString());
        }
        (status, body, response) = await GetAsync(server, Download, server.AdminKey, "bytes=10-19");
        using (response)
        {
            Assert.Equal(HttpStatusCode.PartialContent, status);
            Assert.Equal(bytes[10..20], body);
        }

        // Ranges that cannot be served: 416 with the file's length.
        foreach (var bad in new[] { $"bytes={bytes.Length}-", "bytes=0-1,5-6", "bytes=9-3" })
        {
            (status, body, response) = await GetAsync(server, Download, server.AdminKey, bad);
            using (response)
            {
                Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, status);
                Assert.Equal($"bytes */{bytes.Length}", response.Content.Headers.ContentRange?.ToString());
                Assert.Contains("OUT_OF_RANGE", System.Text.Encoding.UTF8.GetString(body));
            }
        }

        // Unknown models, and other accounts' models, do not exist.
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(server, "/v1/accounts/default/models/nope:download", server.AdminKey)).Status);
        var other = await api.PostAsync("/v1/accounts", new { accountId = "other" });
        var otherKey = other.Body.GetProperty("apiKey").GetProperty("key").GetString()!;
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(server, Download, otherKey)).Status);

        // A model still uploading has no file to send.
        await api.PostAsync("/v1/accounts/default/models?modelId=half", new { });
        Assert.Equal(HttpStatusCode.BadRequest, (await GetAsync(server, "/v1/accounts/default/models/half:download", server.AdminKey)).Status);
    }
}
