using System.Net;

namespace Kiln.ControlPlane.Tests;

/// <summary>An account that reaches its spend limit: its deployments go, inference gets 402 until the limit is raised.</summary>
public class SpendLimitTests
{
    [SharedFact]
    public async Task Reaching_the_limit_deletes_deployments_and_answers_402_until_the_limit_is_raised()
    {
        // One A100 (named by the configuration) beside the CPU slots: the second deployment, naming no type, gets it too.
        using var server = await KilnServer.StartAsync("--reap-interval", "300ms", "--accelerators", "NVIDIA_A100_80GB:1,CPU:8");
        using var admin = new Api(server.BaseUri, server.AdminKey);
        // An A100 replica costs $2.90 an hour, so $0.002 lasts about two and a half seconds of it.
        var account = await admin.PostAsync("/v1/accounts", new { accountId = "thrift", spendLimit = 0.002 });
        Assert.True(account.Status == HttpStatusCode.OK, account.ToString());
        var key = account.Body.GetProperty("apiKey").GetProperty("key").GetString()!;
        using var api = new Api(server.BaseUri, key);
        using var inference = new Inference(server.BaseUri, key);
        await Steps.ImportAsync(api, "thrift", "stories", TestModels.Stories260K());
        var created = await api.PostAsync("/v1/accounts/thrift/deployments?deploymentId=web",
            new { baseModel = "accounts/thrift/models/stories", minReplicaCount = 1, acceleratorType = "NVIDIA_A100_80GB" });
        Assert.True(created.Status == HttpStatusCode.OK, created.ToString());

        var deleted = await Steps.WaitForAsync(api, "/v1/accounts/thrift/deployments/web", r => r.State() == "DELETED", "deleted at the spend limit");
        Assert.Contains("spend limit reached", deleted.Body.GetProperty("status").GetProperty("message").GetString());
        var refused = await inference.PostAsync("/v1/completions", new { model = "accounts/thrift/models/stories", prompt = "Hi", max_tokens = 2 });
        Assert.Equal(HttpStatusCode.PaymentRequired, refused.Status);
        Inference.AssertOpenAiError(refused.Body, "SPEND_LIMIT_REACHED");
        Assert.Contains("spendLimit", refused.Body.GetProperty("error").GetProperty("message").GetString());
        var chat = await inference.PostAsync("/inference/v1/chat/completions",
            new { model = "accounts/thrift/models/stories", messages = new[] { new { role = "user", content = "Hi" } } });
        Assert.Equal(HttpStatusCode.PaymentRequired, chat.Status);

        // Only an administrator may raise it; kilnctl names a bad value.
        var self = await api.PatchAsync("/v1/accounts/thrift", new { spendLimit = 100 });
        Assert.Equal(HttpStatusCode.Forbidden, self.Status);
        var ctl = new Kilnctl(server.BaseUri, server.AdminKey, server.DataDir);
        var bad = await ctl.RunAsync("update", "account", "thrift", "--spend-limit", "-1");
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("--spend-limit", bad.Stderr);
        var unknown = await admin.PatchAsync("/v1/accounts/thrift", new { spendLimits = 100 });
        Assert.Equal(HttpStatusCode.BadRequest, unknown.Status);
        Assert.Contains("spendLimits", unknown.ToString());
        Assert.Contains("Spend Limit", await ctl.OkAsync("update", "account", "thrift", "--spend-limit", "100"));

        // Raised: no more 402 (the deployment is gone, so the model is simply not deployed), and a new one serves.
        var notDeployed = await inference.PostAsync("/v1/completions", new { model = "accounts/thrift/models/stories", prompt = "Hi", max_tokens = 2 });
        Assert.Equal(HttpStatusCode.NotFound, notDeployed.Status);
        var again = await api.PostAsync("/v1/accounts/thrift/deployments?deploymentId=web2",
            new { baseModel = "accounts/thrift/models/stories", minReplicaCount = 1 });
        Assert.True(again.Status == HttpStatusCode.OK, again.ToString());
        await Steps.WaitForAsync(api, "/v1/accounts/thrift/deployments/web2", r => r.State() == "READY", "READY after the limit was raised");
        var served = await inference.PostAsync("/v1/completions", new { model = "accounts/thrift/models/stories", prompt = "Hi", max_tokens = 2 });
        Assert.Equal(HttpStatusCode.OK, served.Status);
    }
}
