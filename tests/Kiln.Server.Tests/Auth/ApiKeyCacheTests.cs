using Kiln.Core.Auth;
using Kiln.Server.Auth;
using Kiln.Store;

namespace Kiln.Server.Tests.Auth;

public class ApiKeyCacheTests
{
    private static readonly ApiKeyRecord Key = new("acme", "k1", new string('a', 64), "k1", DateTimeOffset.UnixEpoch, null);

    [Fact]
    public async Task A_record_past_its_lifetime_is_not_fresh_but_stays_known_until_forgotten()
    {
        var cache = new ApiKeyCache();
        cache.Put(Key);
        Assert.Equal(Key, cache.Find(Key.KeyHash));
        await Task.Delay(ApiKeyCache.Lifetime + TimeSpan.FromMilliseconds(100));
        Assert.Null(cache.Find(Key.KeyHash));
        Assert.Equal(Key, cache.FindLastKnown(Key.KeyHash));
        cache.Revoke("acme", "k1");
        Assert.Null(cache.FindLastKnown(Key.KeyHash));
    }

    [Fact]
    public void A_remembered_hash_is_the_keys_own_and_revoking_the_key_still_refuses_it()
    {
        var cache = new ApiKeyCache();
        var key = ApiKeys.Generate();
        var hash = ApiKeys.Hash(key);
        Assert.Equal(hash, cache.HashOf(key));
        cache.RememberHash(key, hash);
        Assert.Equal(hash, cache.HashOf(key));
        // Another key is hashed afresh, not given a remembered one.
        var other = ApiKeys.Generate();
        Assert.Equal(ApiKeys.Hash(other), cache.HashOf(other));

        var record = Key with { KeyHash = hash };
        cache.Put(record);
        Assert.Equal(record, cache.Find(cache.HashOf(key)));
        // The hash only names the record: once the key is revoked, remembering its hash finds nothing.
        cache.Revoke(record.Account, record.Id);
        Assert.Null(cache.Find(cache.HashOf(key)));
        Assert.Null(cache.FindLastKnown(cache.HashOf(key)));
    }
}
