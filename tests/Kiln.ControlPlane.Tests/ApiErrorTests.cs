using System.Net;

namespace Kiln.ControlPlane.Tests;

public class ApiErrorTests
{
    [SharedFact]
    public async Task Bad_requests_unknown_and_duplicate_ids_and_other_accounts()
    {
        using var server = await KilnServer.StartAsync();
        using var admin = new Api(server.BaseUri, server.AdminKey);
        await Steps.ImportAsync(admin, "default", "stories", TestModels.Stories260K());
        const string deployments = "/v1/accounts/default/deployments";

        var badSpec = await admin.PostAsync($"{deployments}?deploymentId=x", new { baseModel = "stories", minReplicaCount = 3, maxReplicaCount = 2 });
        Assert.Equal(HttpStatusCode.BadRequest, badSpec.Status);
        Assert.Equal("INVALID_ARGUMENT", badSpec.Code);
        Assert.Contains("maxReplicaCount", badSpec.Message);

        var badDuration = await admin.PostAsync($"{deployments}?deploymentId=x",
            new { baseModel = "stories", autoscalingPolicy = new { scaleUpWindow = "5m" } });
        Assert.Equal(HttpStatusCode.BadRequest, badDuration.Status);
        Assert.Contains("autoscalingPolicy.scaleUpWindow", badDuration.Message);

        var badType = await admin.PostAsync($"{deployments}?deploymentId=x", new { baseModel = "stories", acceleratorType = "TPU" });
        Assert.Contains("acceleratorType", badType.Message);
        Assert.Contains("NVIDIA_H100_80GB", badType.Message);

        var badPrecision = await admin.PostAsync($"{deployments}?deploymentId=x", new { baseModel = "stories", precision = "FP8" });
        Assert.Equal(HttpStatusCode.BadRequest, badPrecision.Status);
        Assert.Equal("INVALID_ARGUMENT", badPrecision.Code);
        Assert.Contains("precision", badPrecision.Message);
        Assert.Contains("FP32, FP16", badPrecision.Message);

        var badId = await admin.PostAsync($"{deployments}?deploymentId=Not_Valid", new { baseModel = "stories" });
        Assert.Equal(HttpStatusCode.BadRequest, badId.Status);

        var noModel = await admin.PostAsync($"{deployments}?deploymentId=x", new { baseModel = "accounts/default/models/nope" });
        Assert.Equal(HttpStatusCode.NotFound, noModel.Status);

        var ok = await admin.PostAsync($"{deployments}?deploymentId=dep", new { baseModel = "stories", displayName = "mine" });
        Assert.Equal(HttpStatusCode.OK, ok.Status);
        var dup = await admin.PostAsync($"{deployments}?deploymentId=dep", new { baseModel = "stories" });
        Assert.Equal(HttpStatusCode.Conflict, dup.Status);
        Assert.Equal("ALREADY_EXISTS", dup.Code);

        // Precision: FP32 unless asked; PRECISION_UNSPECIFIED means the default and reads back concrete.
        Assert.Equal("FP32", ok.Str("precision"));
        var half = await admin.PostAsync($"{deployments}?deploymentId=half", new { baseModel = "stories", precision = "FP16" });
        Assert.True(half.Status == HttpStatusCode.OK, half.ToString());
        Assert.Equal("FP16", half.Str("precision"));
        Assert.Equal("FP16", (await admin.GetAsync($"{deployments}/half")).Str("precision"));
        Assert.Equal("FP32", (await admin.PatchAsync($"{deployments}/half", new { precision = "PRECISION_UNSPECIFIED" })).Str("precision"));
        Assert.Equal("FP32", (await admin.PostAsync($"{deployments}?deploymentId=unspecified", new { baseModel = "stories", precision = "PRECISION_UNSPECIFIED" })).Str("precision"));

        var random = await admin.PostAsync(deployments, new { baseModel = "stories", minReplicaCount = 0, maxReplicaCount = 1 });
        Assert.Matches("^accounts/default/deployments/[a-z][a-z0-9]{7}$", random.Str("name"));

        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"{deployments}/missing")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PatchAsync($"{deployments}/missing", new { maxReplicaCount = 2 })).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync($"{deployments}/missing")).Status);
        var badPatch = await admin.PatchAsync($"{deployments}/dep", new { maxReplicaCount = 0 });
        Assert.Equal(HttpStatusCode.BadRequest, badPatch.Status);
        Assert.Contains("maxReplicaCount", badPatch.Message);
        var unknownField = await admin.PatchAsync($"{deployments}/dep", new { replicaCountt = 2 });
        Assert.Contains("replicaCountt", unknownField.Message);

        // A second account sees nothing of the first: 404, never 403.
        var account = await admin.PostAsync("/v1/accounts", new { accountId = "other", displayName = "Other" });
        Assert.True(account.Status == HttpStatusCode.OK, account.ToString());
        var otherKey = account.Body.GetProperty("apiKey").GetProperty("key").GetString()!;
        using var other = new Api(server.BaseUri, otherKey);
        Assert.Equal("other", (await other.GetAsync("/v1/whoami")).Str("accountId"));
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"{deployments}/dep")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await other.DeleteAsync($"{deployments}/dep")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync("/v1/accounts/default/models/stories")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync(deployments)).Status);
        var crossModel = await other.PostAsync("/v1/accounts/other/deployments?deploymentId=steal", new { baseModel = "accounts/default/models/stories" });
        Assert.Equal(HttpStatusCode.NotFound, crossModel.Status);
        Assert.Equal(0, (await other.GetAsync("/v1/accounts/other/deployments")).Int("totalSize"));
        var notAdmin = await other.PostAsync("/v1/accounts", new { accountId = "third" });
        Assert.Equal(HttpStatusCode.Forbidden, notAdmin.Status);
        Assert.Equal("PERMISSION_DENIED", notAdmin.Code);
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsync("/v1/accounts", new { accountId = "other" })).Status);

        // Keys: create, list (no secrets), delete; a deleted key no longer works.
        var key = await other.PostAsync("/v1/accounts/other/apiKeys", new { displayName = "ci" });
        var keyId = key.Str("keyId");
        var keys = await other.GetAsync("/v1/accounts/other/apiKeys");
        Assert.Equal(2, keys.Int("totalSize"));
        Assert.DoesNotContain("kiln_", keys.Body.ToString());
        using (var ci = new Api(server.BaseUri, key.Str("key")))
        {
            Assert.Equal(HttpStatusCode.OK, (await ci.GetAsync("/v1/whoami")).Status);
            Assert.Equal(HttpStatusCode.OK, (await other.DeleteAsync($"/v1/accounts/other/apiKeys/{keyId}")).Status);
            Assert.Equal(HttpStatusCode.Unauthorized, (await ci.GetAsync("/v1/whoami")).Status);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync($"/v1/accounts/other/apiKeys/{keyId}")).Status);
        var stored = File.ReadAllBytes(Path.Combine(server.DataDir, "kiln.db"));
        Assert.DoesNotContain(server.AdminKey, System.Text.Encoding.Latin1.GetString(stored));
    }
}
