using Kiln.Core.Accounts;

namespace Kiln.Store;

/// <summary>What creating an account needs.</summary>
/// <param name="Id">The account ID (resource-ID rule).</param>
/// <param name="DisplayName">Human-readable name; defaults to the ID.</param>
/// <param name="Tier">Developer or enterprise.</param>
/// <param name="SpendLimit">Spend limit in US dollars, or null for none.</param>
public sealed record NewAccount(string Id, string? DisplayName = null, AccountTier Tier = AccountTier.Developer, decimal? SpendLimit = null);

/// <summary>A stored account.</summary>
public sealed record AccountRecord(
    string Id,
    string DisplayName,
    AccountTier Tier,
    decimal? SpendLimit,
    DateTimeOffset CreateTime,
    DateTimeOffset UpdateTime);
