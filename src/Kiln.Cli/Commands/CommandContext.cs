using System.CommandLine;
using System.Text.Json.Nodes;
using Kiln.Cli.Api;
using Kiln.Cli.Config;

namespace Kiln.Cli.Commands;

/// <summary>
/// One command's view of its invocation: output writers, the resolved server, key and account
/// (flag, then environment, then config file), and a lazily built API client.
/// </summary>
public sealed class CommandContext : IDisposable
{
    private readonly ParseResult _parse;
    private readonly GlobalOptions _globals;
    private CliConfig? _config;
    private KilnApiClient? _client;
    private string? _accountId;

    public CommandContext(ParseResult parse, GlobalOptions globals, TextWriter stdout, TextWriter stderr, CliHost host)
    {
        _parse = parse;
        _globals = globals;
        Out = stdout;
        Err = stderr;
        Host = host;
        ConfigFile = ConfigFile.Locate(host.GetEnvironmentVariable);
        Json = parse.GetValue(globals.Output) == "json";
    }

    public TextWriter Out { get; }
    public TextWriter Err { get; }
    public CliHost Host { get; }
    public ConfigFile ConfigFile { get; }

    /// <summary>True for <c>-o json</c>.</summary>
    public bool Json { get; }

    public CliConfig Config => _config ??= ConfigFile.Load();

    public T? Get<T>(Option<T> option) => _parse.GetValue(option);

    public T Get<T>(Argument<T> argument) => _parse.GetValue(argument)!;

    /// <summary>True when the user gave the flag (as opposed to its default applying).</summary>
    public bool Given(Option option) => _parse.GetResult(option) is { Implicit: false };

    public Uri ServerUri => ParseServer(ResolveServerText());

    private (string Text, string Source) ResolveServerText()
    {
        var flag = _parse.GetValue(_globals.Server);
        if (!string.IsNullOrEmpty(flag))
            return (flag, "--server");
        var env = Host.GetEnvironmentVariable("KILN_SERVER");
        if (!string.IsNullOrEmpty(env))
            return (env, "KILN_SERVER");
        if (Config.Server is { } fromConfig)
            return (fromConfig, $"server in {ConfigFile.Path}");
        return (GlobalOptions.DefaultServer, "default server");
    }

    private Uri ParseServer((string Text, string Source) server)
    {
        var text = server.Text.TrimEnd('/');
        if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
            return new Uri(text + "/");
        throw new UsageException($"{server.Source}: invalid URL \"{server.Text}\" (expected e.g. {GlobalOptions.DefaultServer})");
    }

    /// <summary>The API key, or a usage error saying every way to provide one.</summary>
    public string ApiKey
    {
        get
        {
            var flag = _parse.GetValue(_globals.ApiKey);
            if (!string.IsNullOrEmpty(flag))
                return flag;
            var env = Host.GetEnvironmentVariable("KILN_API_KEY");
            if (!string.IsNullOrEmpty(env))
                return env;
            if (Config.ApiKey is { } fromConfig)
                return fromConfig;
            throw new UsageException(
                "no API key: pass --api-key KEY, set KILN_API_KEY, or run 'kilnctl login --server URL --api-key KEY' once");
        }
    }

    public KilnApiClient Client => _client ??= new KilnApiClient(ServerUri, ApiKey, Host.HttpHandler);

    /// <summary>
    /// The account to act on: -a, else KILN_ACCOUNT_ID, else the key's own account, cached in the
    /// config file when the key is the configured one so later commands skip GET /v1/whoami.
    /// </summary>
    /// <summary>The account known without asking the server (flag, environment, cached config), for --dry-run.</summary>
    public string? KnownAccountId()
    {
        if (_accountId is not null)
            return _accountId;
        if (_parse.GetValue(_globals.AccountId) is { Length: > 0 } flag)
            return flag;
        if (Host.GetEnvironmentVariable("KILN_ACCOUNT_ID") is { Length: > 0 } env)
            return env;
        return ApiKey == Config.ApiKey ? Config.AccountId : null;
    }

    public async Task<string> AccountIdAsync(CancellationToken ct)
    {
        if (_accountId is not null)
            return _accountId;
        var flag = _parse.GetValue(_globals.AccountId);
        if (!string.IsNullOrEmpty(flag))
            return _accountId = flag;
        var env = Host.GetEnvironmentVariable("KILN_ACCOUNT_ID");
        if (!string.IsNullOrEmpty(env))
            return _accountId = env;

        var key = ApiKey;
        var keyIsConfigured = key == Config.ApiKey;
        if (keyIsConfigured && Config.AccountId is { } cached)
            return _accountId = cached;

        var whoami = await Client.GetAsync(ApiPaths.WhoAmI, ct);
        var account = AccountIdOf(whoami)
            ?? throw new KilnConnectionException(ServerUri, "GET /v1/whoami answered no accountId", null);
        if (keyIsConfigured)
            ConfigFile.Save(Config with { AccountId = account });
        return _accountId = account;
    }

    internal static string? AccountIdOf(JsonObject whoami)
    {
        var id = whoami["accountId"]?.ToString();
        if (!string.IsNullOrEmpty(id))
            return id;
        var name = whoami["account"]?.ToString();
        return name is not null && name.StartsWith("accounts/", StringComparison.Ordinal) ? name["accounts/".Length..] : null;
    }

    /// <summary>Splits a short ID or full resource name into (account, id).</summary>
    public async Task<(string Account, string Id)> ResolveAsync(string text, string collection, string argumentName, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(text))
            throw new UsageException($"{argumentName}: must not be empty");
        if (ResourceName.TryParseFull(text, collection, argumentName) is { } full)
            return (full.AccountId, full.Id);
        return (await AccountIdAsync(ct), text);
    }

    public void Dispose() => _client?.Dispose();
}
