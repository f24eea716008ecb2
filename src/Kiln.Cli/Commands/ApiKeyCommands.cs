using System.CommandLine;
using System.Text.Json.Nodes;
using Kiln.Cli.Api;
using Kiln.Cli.Formatting;

namespace Kiln.Cli.Commands;

/// <summary><c>create api-key</c>, <c>list api-keys</c>, <c>delete api-key</c>.</summary>
public static class ApiKeyCommands
{
    public static Command Create(CliApp app)
    {
        var command = CliApp.Noun("api-key", "api-keys", "Create an API key for the account (the key is shown once)");
        var displayName = new Option<string?>("--display-name") { Description = "Human-readable name", HelpName = "NAME" };
        command.Options.Add(displayName);
        app.SetAction(command, async (ctx, ct) =>
        {
            var account = await ctx.AccountIdAsync(ct);
            var body = new JsonObject();
            if (ctx.Get(displayName) is { } name)
                body["displayName"] = name;
            var key = await ctx.Client.PostAsync(ApiPaths.ApiKeys(account), body, ct);
            CliApp.Print(ctx, key, () => AccountText.RenderNewKey(key));
        });
        return command;
    }

    public static Command List(CliApp app)
    {
        var command = CliApp.Noun("api-keys", "api-key", "List the account's API keys");
        app.SetAction(command, async (ctx, ct) =>
        {
            var account = await ctx.AccountIdAsync(ct);
            var keys = await ctx.Client.ListAllAsync(ApiPaths.ApiKeys(account), "apiKeys", null, ct);
            CliApp.Print(ctx, new JsonObject { ["apiKeys"] = new JsonArray([.. keys]) },
                () => AccountText.RenderKeyTable(keys));
        });
        return command;
    }

    public static Command Delete(CliApp app)
    {
        var command = CliApp.Noun("api-key", "api-keys", "Delete (revoke) an API key");
        var keyId = new Argument<string>("KEY_ID") { Description = "The key's ID (see 'kilnctl list api-keys')" };
        command.Arguments.Add(keyId);
        app.SetAction(command, async (ctx, ct) =>
        {
            var account = await ctx.AccountIdAsync(ct);
            var id = ctx.Get(keyId);
            var result = await ctx.Client.DeleteAsync(ApiPaths.ApiKey(account, id), ct);
            CliApp.Print(ctx, result, () => $"Deleted API key {id}.\n");
        });
        return command;
    }
}
