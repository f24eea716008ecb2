using System.CommandLine;
using System.Text.Json.Nodes;
using Kiln.Cli.Api;
using Kiln.Cli.Formatting;

namespace Kiln.Cli.Commands;

/// <summary><c>create account</c> (admin keys only) and <c>get account</c>.</summary>
public static class AccountCommands
{
    public static Command Create(CliApp app)
    {
        var command = CliApp.Noun("account", "accounts", "Create an account and its first API key (admin only)");
        var accountId = new Argument<string>("ACCOUNT_ID") { Description = "The new account's ID" };
        var displayName = new Option<string?>("--display-name") { Description = "Human-readable name", HelpName = "NAME" };
        var tier = new Option<string?>("--tier") { Description = "developer or enterprise", HelpName = "TIER" };
        var spendLimit = new Option<string?>("--spend-limit")
        {
            Description = "Spend limit; reaching it deletes the account's deployments",
            HelpName = "N",
        };
        command.Arguments.Add(accountId);
        command.Options.Add(displayName);
        command.Options.Add(tier);
        command.Options.Add(spendLimit);
        app.SetAction(command, async (ctx, ct) =>
        {
            var body = new JsonObject { ["accountId"] = ctx.Get(accountId) };
            if (ctx.Get(displayName) is { } name)
                body["displayName"] = name;
            if (ctx.Get(tier) is { } t)
                body["tier"] = FlagValues.OneOf("--tier", t, "developer", "enterprise");
            if (ctx.Get(spendLimit) is { } limit)
                body["spendLimit"] = FlagValues.NonNegativeNumber("--spend-limit", limit);

            var created = await ctx.Client.PostAsync(ApiPaths.Accounts, body, ct);
            CliApp.Print(ctx, created, () =>
                (Json.At(created, "account") is JsonObject account ? AccountText.RenderAccount(account) : "") +
                (Json.At(created, "apiKey") is JsonObject key ? "\n" + AccountText.RenderNewKey(key) : ""));
        });
        return command;
    }

    public static Command Update(CliApp app)
    {
        var command = CliApp.Noun("account", "accounts", "Change an account's display name, tier or spend limit (admin only)");
        var accountId = new Argument<string>("ACCOUNT_ID") { Description = "The account's ID or accounts/<ID>" };
        var displayName = new Option<string?>("--display-name") { Description = "Human-readable name", HelpName = "NAME" };
        var tier = new Option<string?>("--tier") { Description = "developer or enterprise", HelpName = "TIER" };
        var spendLimit = new Option<string?>("--spend-limit")
        {
            Description = "Spend limit, or \"none\" to remove it; raising it lets a stopped account serve again",
            HelpName = "N|none",
        };
        command.Arguments.Add(accountId);
        command.Options.Add(displayName);
        command.Options.Add(tier);
        command.Options.Add(spendLimit);
        app.SetAction(command, async (ctx, ct) =>
        {
            var given = ctx.Get(accountId);
            var id = given.StartsWith("accounts/", StringComparison.Ordinal) ? given["accounts/".Length..] : given;
            var body = new JsonObject();
            if (ctx.Get(displayName) is { } name)
                body["displayName"] = name;
            if (ctx.Get(tier) is { } t)
                body["tier"] = FlagValues.OneOf("--tier", t, "developer", "enterprise");
            if (ctx.Get(spendLimit) is { } limit)
                body["spendLimit"] = limit == "none" ? null : FlagValues.NonNegativeNumber("--spend-limit", limit);
            if (body.Count == 0)
                throw new UsageException("nothing to update: give --display-name, --tier or --spend-limit");
            var updated = await ctx.Client.PatchAsync(ApiPaths.Account(id), body, ct);
            CliApp.Print(ctx, updated, () => AccountText.RenderAccount(updated));
        });
        return command;
    }

    public static Command Get(CliApp app)
    {
        var command = CliApp.Noun("account", "accounts", "Show an account (default: the API key's own)");
        var accountId = new Argument<string?>("ACCOUNT_ID")
        {
            Description = "The account's ID or accounts/<ID>",
            Arity = ArgumentArity.ZeroOrOne,
        };
        command.Arguments.Add(accountId);
        app.SetAction(command, async (ctx, ct) =>
        {
            var id = ctx.Get(accountId) is { Length: > 0 } given
                ? (given.StartsWith("accounts/", StringComparison.Ordinal) ? given["accounts/".Length..] : given)
                : await ctx.AccountIdAsync(ct);
            var account = await ctx.Client.GetAsync(ApiPaths.Account(id), ct);
            CliApp.Print(ctx, account, () => AccountText.RenderAccount(account));
        });
        return command;
    }
}
