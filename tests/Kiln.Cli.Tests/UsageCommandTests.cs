namespace Kiln.Cli.Tests;

public class UsageCommandTests
{
    private const string Usage = """
        {"startTime":"2026-11-21T09:00:00Z","endTime":"2026-11-21T10:00:00Z","acceleratorSeconds":12.5,"cost":0.010069,
         "requests":3,"promptTokens":30,"completionTokens":45,
         "deployments":[{"deployment":"accounts/acme/deployments/chat","acceleratorSeconds":12.5,"cost":0.010069,"requests":3,"promptTokens":30,"completionTokens":45}],
         "apiKeys":[{"apiKey":"key1","requests":3,"promptTokens":30,"completionTokens":45}]}
        """;

    [Fact]
    public async Task GetUsagePassesTheRangeAndDeploymentAndPrintsTables()
    {
        using var cli = new CliHarness();
        cli.Environment["KILN_ACCOUNT_ID"] = "acme";
        cli.Server.On("GET", "/v1/whoami", """{"account":"accounts/acme","accountId":"acme","apiKeyId":"key1","admin":false}""");
        cli.Server.On("GET", "/v1/accounts/acme/usage", Usage);

        var result = await cli.RunAsync("get", "usage", "--start", "2026-11-21T09:00:00Z", "--end", "2026-11-21T10:00:00Z", "--deployment", "chat");

        Assert.True(result.ExitCode == 0, result.Stderr);
        var call = Assert.Single(cli.Server.Calls("GET", "/v1/accounts/acme/usage"));
        Assert.Equal("?startTime=2026-11-21T09%3A00%3A00.000Z&endTime=2026-11-21T10%3A00%3A00.000Z&deployment=chat", call.Query);
        Assert.Contains("Accelerator Seconds:", result.Stdout);
        Assert.Contains("$0.010069", result.Stdout);
        Assert.Matches(@"accounts/acme/deployments/chat\s+12\.5\s+\$0\.010069\s+3\s+30\s+45", result.Stdout);
        Assert.Matches(@"key1\s+3\s+30\s+45", result.Stdout);
    }

    [Fact]
    public async Task GetUsageRejectsAnUnreadableTime()
    {
        using var cli = new CliHarness();
        cli.Server.On("GET", "/v1/whoami", """{"account":"accounts/acme","accountId":"acme","apiKeyId":"key1","admin":false}""");
        var result = await cli.RunAsync("get", "usage", "--start", "yesterday");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("--start", result.Stderr);
        Assert.Empty(cli.Server.Calls("GET", "/v1/accounts/acme/usage"));
    }
}
