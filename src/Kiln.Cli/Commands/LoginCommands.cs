using System.CommandLine;
using Kiln.Cli.Api;
using Kiln.Cli.Config;
using Kiln.Cli.Formatting;

namespace Kiln.Cli.Commands;

/// <summary><c>login</c> (verify a key and remember it) and <c>whoami</c>.</summary>
public static class LoginCommands
{
    public static Command Login(CliApp app)
    {
        var command = new Command("login",
            "Verify --server and --api-key with the server and save them (mode 0600) for later commands");
        app.SetAction(command, async (ctx, ct) =>
        {
            var server = ctx.ServerUri;
            var key = ctx.ApiKey;
            var whoami = await ctx.Client.GetAsync(ApiPaths.WhoAmI, ct);
            var account = CommandContext.AccountIdOf(whoami)
                ?? throw new KilnConnectionException(server, "GET /v1/whoami answered no accountId", null);
            ctx.ConfigFile.Save(new CliConfig(server.ToString().TrimEnd('/'), key, account));
            CliApp.Print(ctx, whoami, () =>
                $"Logged in to {server.ToString().TrimEnd('/')} as account {account}" +
                $" (key {Json.Str(whoami, "apiKeyId")}{(Json.Str(whoami, "admin") == "true" ? ", admin" : "")}).\n" +
                $"Saved to {ctx.ConfigFile.Path}\n");
        });
        return command;
    }

    public static Command WhoAmI(CliApp app)
    {
        var command = new Command("whoami", "Show the account and key the API key belongs to");
        app.SetAction(command, async (ctx, ct) =>
        {
            var whoami = await ctx.Client.GetAsync(ApiPaths.WhoAmI, ct);
            CliApp.Print(ctx, whoami, () => new KeyValueBlock()
                .Add("Account", Json.Str(whoami, "account"))
                .Add("API Key ID", Json.Str(whoami, "apiKeyId"))
                .Add("Admin", Json.Str(whoami, "admin") == "true" ? "true" : "false")
                .Add("Server", ctx.ServerUri.ToString().TrimEnd('/'))
                .ToString());
        });
        return command;
    }
}
