using Kiln.Core.Wire;

namespace Kiln.Core.Accounts;

/// <summary>An account's tier; wire names "developer" and "enterprise".</summary>
public enum AccountTier
{
    /// <summary>The default tier.</summary>
    Developer,
    /// <summary>Unlocks larger accelerators and limits.</summary>
    Enterprise,
}

/// <summary>Wire names of <see cref="AccountTier"/>.</summary>
public static class AccountTiers
{
    private static readonly WireTable<AccountTier> Table = new(
        (AccountTier.Developer, "developer"),
        (AccountTier.Enterprise, "enterprise"));

    /// <summary>The wire name.</summary>
    public static string ToWireName(this AccountTier tier) => Table.Name(tier);

    /// <summary>Parses a wire name (exact).</summary>
    public static bool TryParse(string? name, out AccountTier tier) => Table.TryParse(name, out tier);
}
