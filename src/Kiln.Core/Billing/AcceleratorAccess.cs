using Kiln.Core.Accounts;
using Kiln.Core.Deployments;
using Kiln.Core.Errors;

namespace Kiln.Core.Billing;

/// <summary>Which accelerator types an account tier may deploy on.</summary>
/// <remarks>
/// The developer tier gets the commonly available types; the large and scarce ones (H100, H200,
/// B200, MI300X) need the enterprise tier, as on Fireworks.
/// </remarks>
public static class AcceleratorAccess
{
    private static readonly IReadOnlySet<AcceleratorType> Developer = new HashSet<AcceleratorType>
    {
        AcceleratorType.Cpu,
        AcceleratorType.NvidiaA100_80GB,
        AcceleratorType.NvidiaA100_40GB,
        AcceleratorType.NvidiaA10G_24GB,
        AcceleratorType.NvidiaL4_24GB,
    };

    private static readonly IReadOnlySet<AcceleratorType> Enterprise = Enum.GetValues<AcceleratorType>().ToHashSet();

    /// <summary>The types <paramref name="tier"/> may use.</summary>
    public static IReadOnlySet<AcceleratorType> AllowedFor(AccountTier tier) => tier switch
    {
        AccountTier.Developer => Developer,
        AccountTier.Enterprise => Enterprise,
        _ => throw new ArgumentOutOfRangeException(nameof(tier), tier, "unknown account tier"),
    };

    /// <summary>
    /// Null when <paramref name="account"/> (of <paramref name="tier"/>) may use <paramref name="type"/>,
    /// else PERMISSION_DENIED naming the tier it needs: the request is well formed, the account lacks the right.
    /// </summary>
    public static KilnError? Check(AccountTier tier, string account, AcceleratorType type)
    {
        if (AllowedFor(tier).Contains(type))
        {
            return null;
        }
        var needed = Enum.GetValues<AccountTier>().First(t => AllowedFor(t).Contains(type));
        return KilnError.PermissionDenied(
            $"accelerator type {type.ToWireName()} requires the {needed.ToWireName()} tier (account \"{account}\" is {tier.ToWireName()})");
    }
}
