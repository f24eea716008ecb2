using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;

namespace Kiln.ControlPlane.Tests;

/// <summary>
/// Adjacent usage windows add up (REST and kilnctl), and a deployment that FAILED and was then
/// deleted comes back afresh on undelete (REST and kilnctl).
/// </summary>
public class UsageWindowAndUndeleteTests(FirectlServer fx) : IClassFixture<FirectlServer>
{
    private static string Rfc3339(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static DateTimeOffset WholeSecond(DateTimeOffset t) => new(t.UtcTicks - (t.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);

    private async Task<(long Requests, long Prompt, long Completion)> UsageAsync(DateTimeOffset start, DateTimeOffset end)
    {
        var r = await fx.Api.GetAsync($"/v1/accounts/default/usage?deployment=metered&startTime={Rfc3339(start)}&endTime={Rfc3339(end)}");
        Assert.True(r.Status == HttpStatusCode.OK, r.ToString());
        return (r.Body.GetProperty("requests").GetInt64(), r.Body.GetProperty("promptTokens").GetInt64(), r.Body.GetProperty("completionTokens").GetInt64());
    }

    /// <summary>
    /// Serves one request, then another in a later second of the same minute, and returns the
    /// window around both and a whole second between them.
    /// </summary>
    private async Task<(DateTimeOffset Start, DateTimeOffset Split, DateTimeOffset End)> TwoRequestsAsync()
    {
        var path = await fx.CreateAsync("metered", new { minReplicaCount = 1 });
        await Steps.WaitForAsync(fx.Api, path, r => r.State() == "READY" && r.Int("replicaCount") == 1, "READY");
        using var inference = new Inference(fx.Server.BaseUri, fx.Server.AdminKey);
        async Task ServeAsync()
        {
            var (status, body, _) = await inference.PostAsync("/inference/v1/completions", new { model = FirectlServer.Model, prompt = "a", max_tokens = 3 });
            Assert.True(status == HttpStatusCode.OK, body.ToString());
        }
        // Both in one minute: kept per minute, each half of it would report both requests.
        while (DateTimeOffset.UtcNow.Second >= 45)
        {
            await Task.Delay(250);
        }
        var start = WholeSecond(DateTimeOffset.UtcNow);
        await ServeAsync();
        // The first request was counted by now; the second starts a whole second after the split.
        var split = WholeSecond(DateTimeOffset.UtcNow) + TimeSpan.FromSeconds(2);
        while (DateTimeOffset.UtcNow < split + TimeSpan.FromMilliseconds(200))
        {
            await Task.Delay(100);
        }
        await ServeAsync();
        var end = WholeSecond(DateTimeOffset.UtcNow) + TimeSpan.FromSeconds(2);
        // The gateway writes usage about once a second.
        await Wait.UntilAsync(async () => (await UsageAsync(start, end)).Requests == 2, Steps.Timeout, "both requests in the usage");
        return (start, split, end);
    }

    [Fact]
    public async Task Usage_over_rest_and_kilnctl_adjacent_windows_add_up_to_the_enclosing_one()
    {
        var (start, split, end) = await TwoRequestsAsync();
        var whole = await UsageAsync(start, end);
        var left = await UsageAsync(start, split);
        var right = await UsageAsync(split, end);
        Assert.Equal((1L, 1L), (left.Requests, right.Requests));
        Assert.Equal(whole, (left.Requests + right.Requests, left.Prompt + right.Prompt, left.Completion + right.Completion));
        // An edge inside a second still splits the total without counting anything twice.
        var inside = split - TimeSpan.FromMilliseconds(500);
        var (l, r) = (await UsageAsync(start, inside), await UsageAsync(inside, end));
        Assert.Equal(whole, (l.Requests + r.Requests, l.Prompt + r.Prompt, l.Completion + r.Completion));

        async Task<JsonNode> CliUsage(DateTimeOffset from, DateTimeOffset to) => JsonNode.Parse(await fx.Ctl.OkAsync(
            "get", "usage", "--start", Rfc3339(from), "--end", Rfc3339(to), "--deployment", "metered", "-o", "json"))!;
        var (cliLeft, cliRight, cliWhole) = (await CliUsage(start, split), await CliUsage(split, end), await CliUsage(start, end));
        Assert.Equal((1L, 1L, 2L), ((long)cliLeft["requests"]!, (long)cliRight["requests"]!, (long)cliWhole["requests"]!));
        Assert.Equal((long)cliWhole["completionTokens"]!, (long)cliLeft["completionTokens"]! + (long)cliRight["completionTokens"]!);
        Assert.Matches(@"Requests:\s+1\n", await fx.Ctl.OkAsync("get", "usage", "--start", Rfc3339(split), "--end", Rfc3339(end), "--deployment", "metered"));
        await fx.DeleteAndWaitAsync("/v1/accounts/default/deployments/metered");
    }

    /// <summary>A deployment of a model whose file cannot load, waited until FAILED, then deleted; returns the good bytes to restore.</summary>
    private async Task<(string Path, string File, byte[] Good)> FailedAndDeletedAsync(string id)
    {
        Assert.Equal("READY", (await Steps.ImportAsync(fx.Api, "default", $"{id}-model", TestModels.Tiny())).State());
        var file = Path.Combine(fx.Server.DataDir, "models", "default", $"{id}-model.gguf");
        var good = File.ReadAllBytes(file);
        File.WriteAllBytes(file, TestModels.Hollow("llama"));
        var created = await fx.Api.PostAsync($"/v1/accounts/default/deployments?deploymentId={id}", new { baseModel = $"{id}-model", minReplicaCount = 1 });
        Assert.True(created.Status == HttpStatusCode.OK, created.ToString());
        var path = $"/v1/accounts/default/deployments/{id}";
        await Steps.WaitForAsync(fx.Api, path, r => r.State() == "FAILED", "FAILED");
        await fx.DeleteAndWaitAsync(path);
        return (path, file, good);
    }

    [Fact]
    public async Task Undelete_over_rest_of_a_failed_then_deleted_deployment_reconciles_it_afresh()
    {
        var (path, file, good) = await FailedAndDeletedAsync("phoenix");
        File.WriteAllBytes(file, good); // the cause is fixed

        var back = await fx.Api.PostAsync($"{path}:undelete");
        Assert.True(back.Status == HttpStatusCode.OK, back.ToString());
        Assert.Equal("CREATING", back.State());
        var status = back.Body.GetProperty("status");
        Assert.Equal(("OK", ""), (status.GetProperty("code").GetString(), status.GetProperty("message").GetString()));
        Assert.Empty(back.Body.GetProperty("replicas").EnumerateArray());

        var ready = await Steps.WaitForAsync(fx.Api, path, r => r.State() == "READY" && r.Int("replicaCount") == 1, "READY after undelete");
        var replica = Assert.Single(ready.Body.GetProperty("replicas").EnumerateArray());
        Assert.Equal(0, replica.GetProperty("failureCount").GetInt32());
        Assert.True(ready.HasEvent("Undeleted"), ready.ToString());
        await fx.DeleteAndWaitAsync(path);
    }

    [Fact]
    public async Task Kilnctl_undelete_of_a_failed_then_deleted_deployment_waits_until_ready()
    {
        var (path, file, good) = await FailedAndDeletedAsync("lazarus");
        File.WriteAllBytes(file, good);
        var back = await fx.Ctl.OkAsync("undelete", "deployment", "lazarus", "--wait", "--wait-timeout", "90s");
        Assert.Contains("READY", back);
        Assert.Equal("READY", (await fx.Api.GetAsync(path)).State());
        await fx.DeleteAndWaitAsync(path);
    }
}
