namespace Kiln.Store;

/// <summary>What creating an API key needs. Only the key's hash is stored, never the key.</summary>
/// <param name="Account">The owning account.</param>
/// <param name="Id">The key's ID within the account.</param>
/// <param name="KeyHash">Lowercase hex SHA-256 of the key (<c>ApiKeys.Hash</c>).</param>
/// <param name="DisplayName">Human-readable name.</param>
public sealed record NewApiKey(string Account, string Id, string KeyHash, string? DisplayName = null);

/// <summary>A stored API key.</summary>
public sealed record ApiKeyRecord(
    string Account,
    string Id,
    string KeyHash,
    string DisplayName,
    DateTimeOffset CreateTime,
    DateTimeOffset? LastUsedTime);
