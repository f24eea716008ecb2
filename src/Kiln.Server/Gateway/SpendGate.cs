using System.Collections.Concurrent;
using Kiln.Core.Billing;
using Kiln.Server.Billing;

namespace Kiln.Server.Gateway;

/// <summary>
/// Refuses inference with 402 for an account at its spend limit, until the limit is raised. The
/// verdict is cached per account for <see cref="Ttl"/> and renewed in the background, so the request
/// path reads the store only for an account's first request.
/// </summary>
public sealed class SpendGate(AccountSpend spend, ILogger<SpendGate> log)
{
    /// <summary>How long a verdict is used before it is checked again.</summary>
    public static readonly TimeSpan Ttl = TimeSpan.FromSeconds(5);

    private sealed class Entry(SpendCheck check, long checkedAt)
    {
        public SpendCheck Check { get; set; } = check;
        public long CheckedAt { get; set; } = checkedAt;
        public int Renewing;
    }

    private readonly ConcurrentDictionary<string, Entry> _accounts = new(StringComparer.Ordinal);

    /// <summary>Throws the 402 when <paramref name="account"/> is at its spend limit.</summary>
    public async ValueTask EnsureAllowedAsync(string account, CancellationToken ct)
    {
        var now = Environment.TickCount64;
        if (!_accounts.TryGetValue(account, out var entry))
        {
            entry = new Entry(await spend.RefusalAsync(account, ct), now);
            _accounts[account] = entry;
        }
        else if (now - entry.CheckedAt > Ttl.TotalMilliseconds && Interlocked.Exchange(ref entry.Renewing, 1) == 0)
        {
            _ = RenewAsync(account, entry);
        }
        if (entry.Check.OverLimit)
        {
            throw new OpenAiError(402,
                $"account {account}: {entry.Check.Reason}; its deployments were deleted, and requests are refused until the account's spendLimit is raised",
                "insufficient_quota", "SPEND_LIMIT_REACHED");
        }
    }

    /// <summary>Drops the cached verdict (the account's limit changed), so the next request checks afresh.</summary>
    public void Forget(string account) => _accounts.TryRemove(account, out _);

    private async Task RenewAsync(string account, Entry entry)
    {
        try
        {
            entry.Check = await spend.RefusalAsync(account, CancellationToken.None);
            entry.CheckedAt = Environment.TickCount64;
        }
        catch (Exception e)
        {
            // Keep the last verdict: a store outage must not open or close the gate by itself.
            log.LogWarning("checking the spend of account {Account} failed: {Error}", account, e.Message);
        }
        finally
        {
            Volatile.Write(ref entry.Renewing, 0);
        }
    }
}
