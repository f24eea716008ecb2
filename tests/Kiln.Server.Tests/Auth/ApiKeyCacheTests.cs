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
}
