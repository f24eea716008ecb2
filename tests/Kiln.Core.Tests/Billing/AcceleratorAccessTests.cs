using Kiln.Core.Accounts;
using Kiln.Core.Billing;
using Kiln.Core.Deployments;
using Kiln.Core.Errors;

namespace Kiln.Core.Tests.Billing;

public class AcceleratorAccessTests
{
    [Theory]
    [InlineData(AcceleratorType.Cpu)]
    [InlineData(AcceleratorType.NvidiaA100_80GB)]
    [InlineData(AcceleratorType.NvidiaA10G_24GB)]
    [InlineData(AcceleratorType.NvidiaL4_24GB)]
    public void Developer_tier_may_use_common_types(AcceleratorType type) =>
        Assert.Null(AcceleratorAccess.Check(AccountTier.Developer, "x", type));

    [Theory]
    [InlineData(AcceleratorType.NvidiaH100_80GB, "NVIDIA_H100_80GB")]
    [InlineData(AcceleratorType.NvidiaH200_141GB, "NVIDIA_H200_141GB")]
    [InlineData(AcceleratorType.NvidiaB200_180GB, "NVIDIA_B200_180GB")]
    [InlineData(AcceleratorType.AmdMi300X_192GB, "AMD_MI300X_192GB")]
    public void Large_types_need_enterprise(AcceleratorType type, string wire)
    {
        var error = AcceleratorAccess.Check(AccountTier.Developer, "x", type);
        Assert.NotNull(error);
        Assert.Equal(StatusCode.PermissionDenied, error.Code);
        Assert.Equal(403, error.HttpStatus);
        Assert.Equal($"accelerator type {wire} requires the enterprise tier (account \"x\" is developer)", error.Message);
    }

    [Fact]
    public void Enterprise_may_use_everything()
    {
        foreach (var type in Enum.GetValues<AcceleratorType>())
        {
            Assert.Null(AcceleratorAccess.Check(AccountTier.Enterprise, "big", type));
        }
        Assert.Equal(Enum.GetValues<AcceleratorType>().Length, AcceleratorAccess.AllowedFor(AccountTier.Enterprise).Count);
        Assert.True(AcceleratorAccess.AllowedFor(AccountTier.Developer).IsProperSubsetOf(AcceleratorAccess.AllowedFor(AccountTier.Enterprise)));
    }
}
