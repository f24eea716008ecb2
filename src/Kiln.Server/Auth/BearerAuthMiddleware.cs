using Kiln.Core.Auth;
using Kiln.Core.Errors;
using Kiln.Core.Time;
using Kiln.Store;

namespace Kiln.Server.Auth;

/// <summary>
/// Authenticates every request by its <c>Authorization: Bearer &lt;key&gt;</c> header against the
/// stored key hashes; there are no anonymous routes.
/// </summary>
public sealed class BearerAuthMiddleware(RequestDelegate next, IKilnStore store, IClock clock)
{
    // Recording every use would add a write to every read; once a minute is precise enough.
    private static readonly TimeSpan TouchInterval = TimeSpan.FromMinutes(1);

    // Inference traffic authenticates every request; a key's record is reused for two seconds,
    // which is also the longest a deleted key keeps working.
    private const long CacheMilliseconds = 2000;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (ApiKeyRecord Record, long Expires)> _cache = new();

    /// <summary>Runs the middleware.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            throw KilnError.Unauthenticated("missing API key: send the header \"Authorization: Bearer <API_KEY>\"");
        }
        var key = header[scheme.Length..].Trim();
        var record = ApiKeys.IsWellFormed(key) ? await FindAsync(ApiKeys.Hash(key), context.RequestAborted) : null;
        if (record is null)
        {
            throw KilnError.Unauthenticated("invalid API key");
        }
        var now = clock.UtcNow;
        if (record.LastUsedTime is not { } last || now - last > TouchInterval)
        {
            await store.TouchApiKeyAsync(record.Account, record.Id, now, context.RequestAborted);
            _cache.TryRemove(record.KeyHash, out _);
        }
        new Caller(record.Account, record.Id, record.Account == Caller.AdminAccountId).AttachTo(context);
        await next(context);
    }

    private async Task<ApiKeyRecord?> FindAsync(string hash, CancellationToken ct)
    {
        var tick = Environment.TickCount64;
        if (_cache.TryGetValue(hash, out var hit) && hit.Expires > tick)
        {
            return hit.Record;
        }
        var record = await store.FindApiKeyByHashAsync(hash, ct);
        if (record is null)
        {
            _cache.TryRemove(hash, out _);
            return null;
        }
        if (_cache.Count > 10_000)
        {
            _cache.Clear();
        }
        _cache[hash] = (record, tick + CacheMilliseconds);
        return record;
    }
}
