using System.Text.Json.Nodes;

namespace Kiln.Cli.Tests;

public class AccountCommandTests
{
    [Fact]
    public async Task LoginVerifiesAndWritesAPrivateConfig()
    {
        using var cli = new CliHarness(apiKey: null);

        var result = await cli.RunAsync("login", "--server", "http://kiln.internal:9000/", "--api-key", "secret-key");

        Assert.Equal(0, result.ExitCode);
        var whoami = Assert.Single(cli.Server.Calls("GET", "/v1/whoami"));
        Assert.Equal("http://kiln.internal:9000/v1/whoami", whoami.Url.ToString());
        Assert.Equal("Bearer secret-key", whoami.Authorization);
        Assert.Contains("Logged in to http://kiln.internal:9000 as account acme (key key1).", result.Stdout);
        var config = JsonNode.Parse(File.ReadAllText(cli.ConfigPath))!;
        Assert.Equal("http://kiln.internal:9000", config["server"]!.ToString());
        Assert.Equal("secret-key", config["apiKey"]!.ToString());
        Assert.Equal("acme", config["accountId"]!.ToString());
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(cli.ConfigPath));
    }

    [Fact]
    public async Task LaterCommandsUseTheConfigAndItsCachedAccount()
    {
        using var cli = new CliHarness(apiKey: null);
        Assert.Equal(0, (await cli.RunAsync("login", "--server", "http://kiln.internal:9000", "--api-key", "secret-key")).ExitCode);
        cli.Server.On("GET", "/v1/accounts/acme/deployments/chat", Samples.Deployment().ToJsonString());

        var result = await cli.RunAsync("get", "deployment", "chat");

        Assert.Equal(0, result.ExitCode);
        var get = cli.Server.Requests[^1];
        Assert.Equal("http://kiln.internal:9000/v1/accounts/acme/deployments/chat", get.Url.ToString());
        Assert.Equal("Bearer secret-key", get.Authorization);
        Assert.Single(cli.Server.Calls("GET", "/v1/whoami"));
    }

    [Fact]
    public async Task EnvironmentOverridesTheConfig()
    {
        using var cli = new CliHarness(apiKey: null);
        Assert.Equal(0, (await cli.RunAsync("login", "--server", "http://kiln.internal:9000", "--api-key", "secret-key")).ExitCode);
        cli.Environment["KILN_SERVER"] = "http://other:8420";
        cli.Environment["KILN_API_KEY"] = "env-key";
        cli.Server.On("GET", "/v1/accounts/acme/models", """{"models":[]}""");

        var result = await cli.RunAsync("list", "models");

        Assert.Equal(0, result.ExitCode);
        Assert.All(cli.Server.Requests.Skip(1), r => Assert.Equal("other", r.Url.Host));
        Assert.All(cli.Server.Requests.Skip(1), r => Assert.Equal("Bearer env-key", r.Authorization));
        // A key other than the configured one has its account looked up, not taken from the cache.
        Assert.Equal(2, cli.Server.Calls("GET", "/v1/whoami").Count());
    }

    [Fact]
    public async Task LoginWithABadKeyWritesNothing()
    {
        using var cli = new CliHarness(apiKey: null);
        cli.Server.OnStatus("GET", "/v1/whoami", 401, """{"code":"UNAUTHENTICATED","message":"invalid API key"}""");

        var result = await cli.RunAsync("login", "--api-key", "wrong");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("kilnctl: UNAUTHENTICATED: invalid API key\n", result.Stderr);
        Assert.False(File.Exists(cli.ConfigPath));
    }

    [Fact]
    public async Task MissingApiKeySaysHowToProvideOne()
    {
        using var cli = new CliHarness(apiKey: null);

        var result = await cli.RunAsync("list", "deployments");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("kilnctl: no API key: pass --api-key KEY, set KILN_API_KEY, or run 'kilnctl login --server URL --api-key KEY' once\n", result.Stderr);
        Assert.Empty(cli.Server.Requests);
    }

    [Fact]
    public async Task BadServerUrlNamesItsSource()
    {
        using var cli = new CliHarness();
        cli.Environment["KILN_SERVER"] = "ftp://nowhere";

        var result = await cli.RunAsync("list", "models");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("kilnctl: KILN_SERVER: invalid URL \"ftp://nowhere\" (expected e.g. http://127.0.0.1:8420)\n", result.Stderr);
    }

    [Fact]
    public async Task UnknownOutputFormatIsAUsageError()
    {
        using var cli = new CliHarness();
        var result = await cli.RunAsync("list", "models", "-o", "yaml");

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("kilnctl: --output: unknown format \"yaml\" (allowed: text, json)\n", result.Stderr);
    }

    [Fact]
    public async Task CreateApiKeyShowsTheKeyOnce()
    {
        using var cli = new CliHarness();
        cli.Server.On("POST", "/v1/accounts/acme/apiKeys",
            """{"keyId":"key2","key":"kiln_secret","displayName":"ci","createTime":"2026-11-21T10:00:00Z"}""");

        var result = await cli.RunAsync("create", "api-key", "--display-name", "ci");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("""{"displayName":"ci"}""", Assert.Single(cli.Server.Calls("POST", "/v1/accounts/acme/apiKeys")).BodyText);
        Assert.Contains("Key:          kiln_secret\n", result.Stdout);
        Assert.Contains("shown only once", result.Stdout);
    }

    [Fact]
    public async Task ListAndDeleteApiKeys()
    {
        using var cli = new CliHarness();
        cli.Server.On("GET", "/v1/accounts/acme/apiKeys",
            """{"apiKeys":[{"keyId":"key1","displayName":"admin","createTime":"2026-11-21T09:00:00Z","lastUseTime":"2026-11-21T10:00:00Z"}],"nextPageToken":""}""");
        cli.Server.On("DELETE", "/v1/accounts/acme/apiKeys/key1", "{}");

        var list = await cli.RunAsync("list", "api-keys");
        var delete = await cli.RunAsync("delete", "api-key", "key1");

        Assert.Equal(0, list.ExitCode);
        Assert.StartsWith("KEY ID   DISPLAY NAME   CREATE TIME                LAST USE TIME\nkey1     admin          2026-11-21T09:00:00.000Z   2026-11-21T10:00:00.000Z\n", list.Stdout);
        Assert.Equal(0, delete.ExitCode);
        Assert.Equal("Deleted API key key1.\n", delete.Stdout);
    }

    [Fact]
    public async Task CreateAccountSendsTierAndSpendLimit()
    {
        using var cli = new CliHarness();
        cli.Server.On("POST", "/v1/accounts",
            """{"account":{"name":"accounts/beta","displayName":"Beta","tier":"enterprise","spendLimit":100,"createTime":"2026-11-21T09:00:00Z"},"apiKey":{"keyId":"k9","key":"kiln_beta"}}""");

        var result = await cli.RunAsync("create", "account", "beta", "--display-name", "Beta", "--tier", "enterprise", "--spend-limit", "100");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("""{"accountId":"beta","displayName":"Beta","tier":"enterprise","spendLimit":100}""",
            Assert.Single(cli.Server.Calls("POST", "/v1/accounts")).BodyText);
        Assert.Contains("Name:         accounts/beta\n", result.Stdout);
        Assert.Contains("Key:    kiln_beta\n", result.Stdout);
        Assert.Empty(cli.Server.Calls("GET", "/v1/whoami"));
    }

    [Theory]
    [InlineData("--tier", "gold", "kilnctl: --tier: invalid value \"gold\" (allowed: developer, enterprise)\n")]
    [InlineData("--spend-limit", "-5", "kilnctl: --spend-limit: invalid value \"-5\" (expected a non-negative number)\n")]
    public async Task CreateAccountRejectsBadValues(string flag, string value, string expected)
    {
        using var cli = new CliHarness();
        var result = await cli.RunAsync("create", "account", "beta", flag, value);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal(expected, result.Stderr);
        Assert.Empty(cli.Server.Requests);
    }

    [Fact]
    public async Task NonAdminCreateAccountIsDenied()
    {
        using var cli = new CliHarness();
        cli.Server.OnStatus("POST", "/v1/accounts", 403, """{"code":"PERMISSION_DENIED","message":"creating accounts needs an admin API key"}""");

        var result = await cli.RunAsync("create", "account", "beta");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("kilnctl: PERMISSION_DENIED: creating accounts needs an admin API key\n", result.Stderr);
    }
}
