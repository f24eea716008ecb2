using System.Text.Json;
using Kiln.Core.Accounts;
using Kiln.Core.Auth;
using Kiln.Core.Errors;
using Kiln.Core.Names;
using Kiln.Server.Auth;
using Kiln.Server.Gateway;
using Kiln.Store;

namespace Kiln.Server.ControlPlane.Api;

/// <summary><c>POST /v1/accounts</c> and <c>PATCH /v1/accounts/{a}</c> (admin), and <c>GET /v1/accounts/{a}</c>.</summary>
public static class AccountsApi
{
    /// <summary>Maps the routes.</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/accounts", async (HttpContext ctx, IKilnStore store, CancellationToken ct) =>
        {
            if (!Caller.Of(ctx).IsAdmin)
            {
                throw KilnError.PermissionDenied("creating accounts needs an admin API key");
            }
            var body = await ApiJson.ReadObjectAsync(ctx.Request, ct);
            var id = ResourceNames.RequireValidId(JsonFields.String(body, "accountId") ?? "", "account");
            var tier = AccountTier.Developer;
            if (JsonFields.String(body, "tier") is { } t && !AccountTiers.TryParse(t, out tier))
            {
                throw KilnError.InvalidArgument($"tier: unknown tier \"{t}\"; known: developer, enterprise");
            }
            var spendLimit = JsonFields.Decimal(body, "spendLimit");
            if (spendLimit < 0)
            {
                throw KilnError.InvalidArgument($"spendLimit: must not be negative, got {spendLimit}");
            }
            var account = await store.CreateAccountAsync(new NewAccount(id, JsonFields.String(body, "displayName"), tier, spendLimit), ct);
            var key = ApiKeys.Generate();
            var keyId = ApiKeysApi.NewKeyId();
            await store.CreateApiKeyAsync(new NewApiKey(id, keyId, ApiKeys.Hash(key), "first key"), ct);
            return ApiJson.Ok(new { account = ToJson(account), apiKey = new { keyId, key } });
        });

        app.MapGet("/v1/accounts/{a}", async (string a, HttpContext ctx, IKilnStore store, CancellationToken ct) =>
        {
            Caller.Of(ctx).RequireAccount(a, "account", $"accounts/{a}");
            var account = await store.GetAccountAsync(a, ct) ?? throw KilnError.NotFound("account", $"accounts/{a}");
            return ApiJson.Ok(ToJson(account));
        });

        app.MapMethods("/v1/accounts/{a}", ["PATCH"], PatchAsync);
    }

    // PATCH: the fields an administrator may change; others are refused so a typo is not ignored.
    private static readonly HashSet<string> Patchable = new(StringComparer.Ordinal) { "displayName", "tier", "spendLimit" };

    private static async Task<IResult> PatchAsync(string a, HttpContext ctx, IKilnStore store, SpendGate spend, CancellationToken ct)
    {
        if (!Caller.Of(ctx).IsAdmin)
        {
            throw KilnError.PermissionDenied("changing an account needs an admin API key");
        }
        var body = await ApiJson.ReadObjectAsync(ctx.Request, ct);
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw KilnError.InvalidArgument("the body must be a JSON object");
        }
        foreach (var field in body.EnumerateObject())
        {
            if (!Patchable.Contains(field.Name))
            {
                throw KilnError.InvalidArgument($"{field.Name}: not a field an account update may change; it may change displayName, tier and spendLimit");
            }
        }
        var account = await store.GetAccountAsync(a, ct) ?? throw KilnError.NotFound("account", $"accounts/{a}");
        var tier = account.Tier;
        if (JsonFields.String(body, "tier") is { } t && !AccountTiers.TryParse(t, out tier))
        {
            throw KilnError.InvalidArgument($"tier: unknown tier \"{t}\"; known: developer, enterprise");
        }
        // spendLimit: a number sets it, null removes it, absent keeps it.
        var spendLimit = body.TryGetProperty("spendLimit", out _) ? JsonFields.Decimal(body, "spendLimit") : account.SpendLimit;
        if (spendLimit < 0)
        {
            throw KilnError.InvalidArgument($"spendLimit: must not be negative, got {spendLimit}");
        }
        var updated = await store.UpdateAccountAsync(account with
        {
            DisplayName = JsonFields.String(body, "displayName") ?? account.DisplayName,
            Tier = tier,
            SpendLimit = spendLimit,
        }, ct);
        spend.Forget(a); // a raised limit serves again at once, not a cache period later
        return ApiJson.Ok(ToJson(updated));
    }

    private static object ToJson(AccountRecord a) => new
    {
        name = $"accounts/{a.Id}",
        displayName = a.DisplayName,
        tier = a.Tier.ToWireName(),
        spendLimit = a.SpendLimit,
        createTime = ApiJson.Time(a.CreateTime),
    };
}
