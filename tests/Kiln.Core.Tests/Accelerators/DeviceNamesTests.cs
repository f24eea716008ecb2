using Kiln.Core.Accelerators;
using Kiln.Core.Deployments;

namespace Kiln.Core.Tests.Accelerators;

public class DeviceNamesTests
{
    [Theory]
    [InlineData("NVIDIA H100 80GB HBM3", null, AcceleratorType.NvidiaH100_80GB)]
    [InlineData("NVIDIA H100 PCIe", 81559L, AcceleratorType.NvidiaH100_80GB)]
    [InlineData("NVIDIA H100 NVL", 95830L, AcceleratorType.NvidiaH100_80GB)]
    [InlineData("NVIDIA H200", 143771L, AcceleratorType.NvidiaH200_141GB)]
    [InlineData("NVIDIA B200", 183359L, AcceleratorType.NvidiaB200_180GB)]
    [InlineData("NVIDIA A100-SXM4-80GB", 81920L, AcceleratorType.NvidiaA100_80GB)]
    [InlineData("NVIDIA A100 80GB PCIe", null, AcceleratorType.NvidiaA100_80GB)]
    [InlineData("NVIDIA A100-SXM4-40GB", 40960L, AcceleratorType.NvidiaA100_40GB)]
    [InlineData("NVIDIA A100-PCIE-40GB", null, AcceleratorType.NvidiaA100_40GB)]
    [InlineData("NVIDIA A10G", 23028L, AcceleratorType.NvidiaA10G_24GB)]
    [InlineData("NVIDIA L4", 23034L, AcceleratorType.NvidiaL4_24GB)]
    [InlineData("AMD Instinct MI300X", 196592L, AcceleratorType.AmdMi300X_192GB)]
    [InlineData("AMD Instinct MI300X OAM", null, AcceleratorType.AmdMi300X_192GB)]
    [InlineData("h100", null, AcceleratorType.NvidiaH100_80GB)] // a Slurm gres type
    [InlineData("a100_80gb", null, AcceleratorType.NvidiaA100_80GB)]
    public void Known_products_map_to_their_type(string name, long? memory, AcceleratorType expected) =>
        Assert.Equal(expected, DeviceNames.TypeOf(name, memory));

    [Theory]
    [InlineData("NVIDIA L40S", 46068L)] // not an L4
    [InlineData("NVIDIA L40", null)]
    [InlineData("Tesla V100-SXM2-16GB", 16384L)]
    [InlineData("NVIDIA GeForce RTX 4090", 24564L)]
    [InlineData("NVIDIA A10", 23028L)] // an A10 is not AWS's A10G
    [InlineData("a100", null)] // 40 or 80 GB: unknown
    [InlineData("", null)]
    [InlineData("   ", null)]
    public void Unknown_or_ambiguous_products_have_no_type(string name, long? memory) =>
        Assert.Null(DeviceNames.TypeOf(name, memory));

    [Fact]
    public void Memory_decides_between_the_two_A100s_over_the_name()
    {
        Assert.Equal(AcceleratorType.NvidiaA100_40GB, DeviceNames.TypeOf("NVIDIA A100", 40536));
        Assert.Equal(AcceleratorType.NvidiaA100_80GB, DeviceNames.TypeOf("NVIDIA A100", 81559));
    }
}
