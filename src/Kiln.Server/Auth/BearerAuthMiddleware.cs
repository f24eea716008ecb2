using Kiln.Core.Auth;
using Kiln.Core.Errors;
using Kiln.Core.Time;
using Kiln.Store;

namespace Kiln.Server.Auth;

/// <summary>
/// Authenticates every request by its <c>Authorization: Bearer &lt;key&gt;</c> header against the
/// stored key hashes; there are no anonymous routes.
/// </summary>
public sealed class BearerAuthMiddleware(RequestDelegate next, IKilnStore store, IClock clock, ApiKeyCache cache)
{
    // Recording every use would add a write to every read; once a minute is precise enough.
    private static readonly TimeSpan TouchInterval = TimeSpan.FromMinutes(1);


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
            try
            {
                await store.TouchApiKeyAsync(record.Account, record.Id, now, context.RequestAborted);
                cache.Forget(record.KeyHash);
            }
            catch (KilnError e) when (e.Code is StatusCode.Unavailable or StatusCode.Internal)
            {
                // The store is unreachable: the use is recorded at a later request.
            }
        }
        new Caller(record.Account, record.Id, record.Account == Caller.AdminAccountId).AttachTo(context);
        await next(context);
    }

    private async Task<ApiKeyRecord?> FindAsync(string hash, CancellationToken ct)
    {
        if (cache.Find(hash) is { } hit)
        {
            return hit;
        }
        ApiKeyRecord? record;
        try
        {
            record = await store.FindApiKeyByHashAsync(hash, ct);
        }
        catch (KilnError e) when (e.Code is StatusCode.Unavailable or StatusCode.Internal && cache.FindLastKnown(hash) is { } known)
        {
            // The store is unreachable: keys seen before keep working until it is back.
            return known;
        }
        if (record is null)
        {
            cache.Forget(hash);
            return null;
        }
        cache.Put(record);
        return record;
    }
}
