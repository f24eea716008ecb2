using Kiln.Core.Auth;
using Kiln.Core.Errors;
using Kiln.Core.Time;
using Kiln.Store;

namespace Kiln.Server.Auth;

/// <summary>
/// Authenticates every request by its <c>Authorization: Bearer &lt;key&gt;</c> header against the
/// stored key hashes; there are no anonymous routes.
/// </summary>
public sealed class BearerAuthMiddleware(RequestDelegate next, IKilnStore store, IClock clock, ApiKeyCache cache, ReplicaTokens replicaTokens)
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
        if (ReplicaTokens.LooksLikeOne(key))
        {
            await AsReplicaAsync(context, key);
            return;
        }
        var hash = ApiKeys.IsWellFormed(key) ? cache.HashOf(key) : null;
        var record = hash is not null ? await FindAsync(hash, context.RequestAborted) : null;
        if (record is null)
        {
            throw KilnError.Unauthenticated("invalid API key");
        }
        cache.RememberHash(key, hash!);
        var now = clock.UtcNow;
        if (record.LastUsedTime is not { } last || now - last > TouchInterval)
        {
            try
            {
                await store.TouchApiKeyAsync(record.Account, record.Id, now, context.RequestAborted);
                cache.Put(record with { LastUsedTime = now });
            }
            catch (KilnError e) when (e.Code is StatusCode.Unavailable or StatusCode.Internal)
            {
                // Bookkeeping only: a known key keeps working while the store is out of reach, and a
                // later use records the time.
            }
        }
        new Caller(record.Account, record.Id, record.Account == Caller.AdminAccountId).AttachTo(context);
        await next(context);
    }

    /// <summary>A replica's token: good for downloading its account's model files, nothing else.</summary>
    private async Task AsReplicaAsync(HttpContext context, string token)
    {
        if (!replicaTokens.TryVerify(token, out var account, out var replicaId))
        {
            throw KilnError.Unauthenticated("invalid replica token");
        }
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method)
            || !(context.Request.Path.Value ?? "").EndsWith(":download", StringComparison.Ordinal))
        {
            throw KilnError.PermissionDenied($"a replica token only downloads model files, not {context.Request.Method} {context.Request.Path}");
        }
        new Caller(account, replicaId, IsAdmin: false).AttachTo(context);
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
            // The store is out of reach: the gateway keeps serving keys it has seen (and routing from
            // its last table) until the store answers again.
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
