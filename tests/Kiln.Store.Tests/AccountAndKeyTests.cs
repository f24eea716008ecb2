using Kiln.Core.Accounts;
using Kiln.Core.Auth;
using Kiln.Core.Errors;

namespace Kiln.Store.Tests;

public abstract class AccountAndKeyTests(StoreBackend backend) : IDisposable
{
    private readonly TempStore _t = new(backend);

    public void Dispose() => _t.Dispose();

    [StoreFact]
    public async Task Account_crud()
    {
        var created = await _t.Store.CreateAccountAsync(new NewAccount("acme", "Acme Inc", AccountTier.Enterprise, 125.50m));
        Assert.Equal(new AccountRecord("acme", "Acme Inc", AccountTier.Enterprise, 125.50m, _t.Clock.UtcNow, _t.Clock.UtcNow), created);
        Assert.Equal(created, await _t.Store.GetAccountAsync("acme"));
        Assert.Null(await _t.Store.GetAccountAsync("nobody"));

        _t.Clock.Advance(TimeSpan.FromMinutes(1));
        var updated = await _t.Store.UpdateAccountAsync(created with { SpendLimit = null, Tier = AccountTier.Developer });
        Assert.Null(updated.SpendLimit);
        Assert.Equal(AccountTier.Developer, updated.Tier);
        Assert.Equal(created.CreateTime, updated.CreateTime);
        Assert.Equal(_t.Clock.UtcNow, updated.UpdateTime);

        var defaults = await _t.Store.CreateAccountAsync(new NewAccount("solo"));
        Assert.Equal(("solo", AccountTier.Developer, (decimal?)null), (defaults.DisplayName, defaults.Tier, defaults.SpendLimit));
    }

    [StoreFact]
    public async Task Duplicate_account_is_already_exists()
    {
        await _t.Store.CreateAccountAsync(new NewAccount("acme"));
        var e = await Assert.ThrowsAsync<KilnError>(() => _t.Store.CreateAccountAsync(new NewAccount("acme")));
        Assert.Equal(StatusCode.AlreadyExists, e.Code);
        Assert.Equal("account acme already exists", e.Message);
    }

    [StoreFact]
    public async Task Invalid_ids_are_rejected()
    {
        var e = await Assert.ThrowsAsync<KilnError>(() => _t.Store.CreateAccountAsync(new NewAccount("Acme")));
        Assert.Equal(StatusCode.InvalidArgument, e.Code);
        var neg = await Assert.ThrowsAsync<KilnError>(() => _t.Store.CreateAccountAsync(new NewAccount("a", SpendLimit: -1)));
        Assert.Equal(StatusCode.InvalidArgument, neg.Code);
    }

    [StoreFact]
    public async Task Update_of_missing_account_is_not_found()
    {
        var e = await Assert.ThrowsAsync<KilnError>(() =>
            _t.Store.UpdateAccountAsync(new AccountRecord("ghost", "g", AccountTier.Developer, null, default, default)));
        Assert.Equal(StatusCode.NotFound, e.Code);
    }

    [StoreFact]
    public async Task Api_keys_are_found_by_hash_and_scoped_by_account()
    {
        await _t.Store.CreateAccountAsync(new NewAccount("acme"));
        await _t.Store.CreateAccountAsync(new NewAccount("other"));
        var key = ApiKeys.Generate();
        var record = await _t.Store.CreateApiKeyAsync(new NewApiKey("acme", "ci", ApiKeys.Hash(key), "CI key"));
        Assert.Equal(new ApiKeyRecord("acme", "ci", ApiKeys.Hash(key), "CI key", _t.Clock.UtcNow, null), record);
        Assert.Equal(record, await _t.Store.FindApiKeyByHashAsync(ApiKeys.Hash(key)));
        Assert.Null(await _t.Store.FindApiKeyByHashAsync(ApiKeys.Hash(ApiKeys.Generate())));

        await _t.Store.CreateApiKeyAsync(new NewApiKey("other", "ci", ApiKeys.Hash(ApiKeys.Generate())));
        Assert.Single((await _t.Store.ListApiKeysAsync("acme", PageRequest.First)).Items);
        Assert.False(await _t.Store.DeleteApiKeyAsync("other", "nope"));
        Assert.True(await _t.Store.DeleteApiKeyAsync("other", "ci"));
        Assert.Empty((await _t.Store.ListApiKeysAsync("other", PageRequest.First)).Items);
        Assert.NotNull(await _t.Store.FindApiKeyByHashAsync(ApiKeys.Hash(key)));
    }

    [StoreFact]
    public async Task Api_key_uniqueness_and_parents()
    {
        await _t.Store.CreateAccountAsync(new NewAccount("acme"));
        var hash = ApiKeys.Hash(ApiKeys.Generate());
        await _t.Store.CreateApiKeyAsync(new NewApiKey("acme", "k1", hash));
        Assert.Equal(StatusCode.AlreadyExists,
            (await Assert.ThrowsAsync<KilnError>(() => _t.Store.CreateApiKeyAsync(new NewApiKey("acme", "k1", ApiKeys.Hash("x"))))).Code);
        var sameHash = await Assert.ThrowsAsync<KilnError>(() => _t.Store.CreateApiKeyAsync(new NewApiKey("acme", "k2", hash)));
        Assert.Equal(StatusCode.AlreadyExists, sameHash.Code);
        Assert.DoesNotContain("acme", sameHash.Message);
        Assert.Equal(StatusCode.NotFound,
            (await Assert.ThrowsAsync<KilnError>(() => _t.Store.CreateApiKeyAsync(new NewApiKey("ghost", "k1", ApiKeys.Hash("y"))))).Code);
        Assert.Equal(StatusCode.InvalidArgument,
            (await Assert.ThrowsAsync<KilnError>(() => _t.Store.CreateApiKeyAsync(new NewApiKey("acme", "k3", "ABC")))).Code);
    }

    [StoreFact]
    public async Task Touch_moves_last_used_forward_only()
    {
        await _t.Store.CreateAccountAsync(new NewAccount("acme"));
        var hash = ApiKeys.Hash(ApiKeys.Generate());
        await _t.Store.CreateApiKeyAsync(new NewApiKey("acme", "k", hash));
        var t1 = _t.Clock.UtcNow.AddMinutes(5);
        await _t.Store.TouchApiKeyAsync("acme", "k", t1);
        await _t.Store.TouchApiKeyAsync("acme", "k", t1.AddMinutes(-3));
        Assert.Equal(t1, (await _t.Store.FindApiKeyByHashAsync(hash))!.LastUsedTime);
        Assert.Equal(StatusCode.NotFound, (await Assert.ThrowsAsync<KilnError>(() => _t.Store.TouchApiKeyAsync("acme", "zz", t1))).Code);
    }
}

public sealed class SqliteAccountAndKeyTests() : AccountAndKeyTests(StoreBackend.Sqlite);

public sealed class PostgresAccountAndKeyTests() : AccountAndKeyTests(StoreBackend.Postgres);
