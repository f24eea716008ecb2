using System.Net.Http.Headers;
using System.Text.RegularExpressions;

namespace Kiln.ControlPlane.Tests;

public partial class GatewayWarmupEndToEndTests
{
    [GeneratedRegex("""Gateway warm-up: (\d+) requests in (\d+) rounds, (\d+) proxied""")]
    private static partial Regex ReportLine();

    [Fact]
    public async Task The_warm_up_at_start_proxies_its_requests_and_leaves_no_usage_metrics_deployments_or_access_log()
    {
        // The default budget (test servers are started without a warm-up unless they ask for one).
        using var server = await KilnServer.StartAsync("--gateway-warmup", "10s");
        await Wait.UntilAsync(() => ReportLine().IsMatch(server.Output) || server.Output.Contains("Gateway warm-up failed"), TimeSpan.FromSeconds(60), "the warm-up's report");
        var report = ReportLine().Match(server.Output);
        Assert.True(report.Success, server.Output);
        var requests = int.Parse(report.Groups[1].Value);
        Assert.True(requests > 0);
        Assert.Equal(requests, int.Parse(report.Groups[3].Value));
        // Past the usage flusher's interval: whatever the server's recorder held would be in the store by now.
        await Task.Delay(TimeSpan.FromSeconds(1.5));

        using var api = new Api(server.BaseUri, server.AdminKey);
        var usage = await api.GetAsync("/v1/accounts/default/usage");
        Assert.Equal(0, usage.Body.GetProperty("requests").GetInt64());
        // The warm-up's account and deployment live in its scratch store only: here the name is free.
        var account = await api.PostAsync("/v1/accounts", new { accountId = "warmup" });
        Assert.True(account.Status == System.Net.HttpStatusCode.OK, account.ToString());
        var deployments = await api.GetAsync("/v1/accounts/default/deployments");
        Assert.DoesNotContain("warmup", deployments.Body.ToString());

        using var http = new HttpClient { BaseAddress = server.BaseUri };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.AdminKey);
        var metrics = await http.GetStringAsync("/metrics");
        Assert.DoesNotContain("deployment=", metrics);
        // Neither the access log nor any other line of the warm-up's gateway reaches the server's output.
        Assert.DoesNotContain("InferenceProxy", server.Output);
        Assert.DoesNotContain("inference ", server.Output);
        // Its scratch store is gone with it.
        Assert.Empty(Directory.GetDirectories(Path.Combine(server.DataDir, "gateway-warmup")));
    }

    [Fact]
    public async Task A_zero_budget_turns_the_warm_up_off()
    {
        using var server = await KilnServer.StartAsync("--gateway-warmup", "0");
        using var api = new Api(server.BaseUri, server.AdminKey);
        // The server serves at once; had a warm-up started, its report would follow within its 10 s budget.
        Assert.Equal(System.Net.HttpStatusCode.OK, (await api.GetAsync("/v1/accounts/default")).Status);
        await Task.Delay(TimeSpan.FromSeconds(10));
        Assert.DoesNotContain("Gateway warm-up", server.Output);
    }
}
