using System.Collections.Concurrent;
using Kiln.Core.Auth;
using Kiln.Store;

namespace Kiln.Server.Auth;

/// <summary>
/// Key records by hash, reused for <see cref="Lifetime"/> so that inference traffic does not read the
/// store on every request. A key deleted through this server instance is forgotten at once; one
/// deleted through another instance keeps working here for at most <see cref="Lifetime"/> (or, while
/// the store is unreachable, until it is reachable again).
/// </summary>
public sealed class ApiKeyCache
{
    /// <summary>How long a record is reused: the bound on revocation delay across instances.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(2);

    private const int Capacity = 10_000;
    private readonly ConcurrentDictionary<string, (ApiKeyRecord Record, long Expires)> _byHash = new();
    // Keys that authenticated, with their hashes: SHA-256 through OpenSSL cost a one-at-a-time gateway request
    // about 25 us, most of it in code gone cold between requests. The process gets every key in the clear
    // with each request anyway; only a hash, never a key, decides who the caller is.
    private readonly ConcurrentDictionary<string, string> _hashes = new(StringComparer.Ordinal);

    /// <summary>The hash of <paramref name="key"/> (<see cref="ApiKeys.Hash"/>), remembered for keys that authenticated.</summary>
    public string HashOf(string key) => _hashes.TryGetValue(key, out var hash) ? hash : ApiKeys.Hash(key);

    /// <summary>Remembers the hash of a key that authenticated, for <see cref="HashOf"/>.</summary>
    public void RememberHash(string key, string hash)
    {
        if (_hashes.ContainsKey(key))
        {
            return;
        }
        if (_hashes.Count > Capacity)
        {
            _hashes.Clear();
        }
        _hashes[key] = hash;
    }

    /// <summary>A fresh cached record for <paramref name="hash"/>, or null.</summary>
    public ApiKeyRecord? Find(string hash) =>
        _byHash.TryGetValue(hash, out var hit) && hit.Expires > Environment.TickCount64 ? hit.Record : null;

    /// <summary>
    /// The last record cached for <paramref name="hash"/>, however old: for when the store cannot be
    /// asked (a database outage), so that keys it confirmed before keep working until it answers.
    /// </summary>
    public ApiKeyRecord? FindLastKnown(string hash) => _byHash.TryGetValue(hash, out var hit) ? hit.Record : null;

    /// <summary>Caches a record read from the store.</summary>
    public void Put(ApiKeyRecord record)
    {
        if (_byHash.Count > Capacity)
        {
            _byHash.Clear();
        }
        _byHash[record.KeyHash] = (record, Environment.TickCount64 + (long)Lifetime.TotalMilliseconds);
    }

    /// <summary>Drops whatever is cached for <paramref name="hash"/>.</summary>
    public void Forget(string hash) => _byHash.TryRemove(hash, out _);

    /// <summary>Drops the key <paramref name="keyId"/> of <paramref name="account"/>: it was deleted.</summary>
    public void Revoke(string account, string keyId)
    {
        foreach (var (hash, entry) in _byHash)
        {
            if (entry.Record.Account == account && entry.Record.Id == keyId)
            {
                _byHash.TryRemove(hash, out _);
            }
        }
    }
}
