using Kiln.Core.Accelerators;
using Kiln.Core.Deployments;

namespace Kiln.Core.Tests.Accelerators;

public class DeviceAllocatorTests
{
    private static readonly AcceleratorDevice[] Devices =
    [
        new(AcceleratorType.NvidiaH100_80GB, DeviceVendor.Nvidia, 0, "GPU-a", "NVIDIA H100 80GB HBM3", 81559),
        new(AcceleratorType.NvidiaH100_80GB, DeviceVendor.Nvidia, 1, "GPU-b", "NVIDIA H100 80GB HBM3", 81559),
        new(AcceleratorType.NvidiaL4_24GB, DeviceVendor.Nvidia, 2, null, "NVIDIA L4", 23034),
        new(AcceleratorType.NvidiaH100_80GB, DeviceVendor.Nvidia, 3, "GPU-d", "NVIDIA H100 80GB HBM3", 81559),
    ];

    [Fact]
    public void Picks_free_devices_of_the_type_lowest_index_first()
    {
        Assert.Equal(["GPU-a", "GPU-b"], DeviceAllocator.Pick(Devices, AcceleratorType.NvidiaH100_80GB, 2, new HashSet<string>())!.Select(d => d.Id));
        Assert.Equal(["GPU-b", "GPU-d"], DeviceAllocator.Pick(Devices, AcceleratorType.NvidiaH100_80GB, 2, new HashSet<string> { "GPU-a" })!.Select(d => d.Id));
        Assert.Equal(["2"], DeviceAllocator.Pick(Devices, AcceleratorType.NvidiaL4_24GB, 1, new HashSet<string>())!.Select(d => d.Id));
    }

    [Fact]
    public void Never_hands_out_a_held_device_and_gives_nothing_when_too_few_are_free()
    {
        Assert.Null(DeviceAllocator.Pick(Devices, AcceleratorType.NvidiaH100_80GB, 2, new HashSet<string> { "GPU-a", "GPU-d" }));
        Assert.Null(DeviceAllocator.Pick(Devices, AcceleratorType.NvidiaH100_80GB, 4, new HashSet<string>()));
        Assert.Null(DeviceAllocator.Pick(Devices, AcceleratorType.NvidiaA100_80GB, 1, new HashSet<string>()));
    }

    [Fact]
    public void The_environment_names_exactly_the_devices_by_uuid_or_index()
    {
        var env = VisibleDevices.Environment([Devices[0], Devices[3]]);
        Assert.Equal("GPU-a,GPU-d", env[VisibleDevices.Cuda]);
        Assert.Equal("", env[VisibleDevices.Rocr]);
        Assert.False(env.ContainsKey(VisibleDevices.CudaOrder));
        var byIndex = VisibleDevices.Environment([Devices[2]]);
        Assert.Equal("2", byIndex[VisibleDevices.Cuda]);
        Assert.Equal("PCI_BUS_ID", byIndex[VisibleDevices.CudaOrder]);
        var amd = VisibleDevices.Environment([new AcceleratorDevice(AcceleratorType.AmdMi300X_192GB, DeviceVendor.Amd, 5, null, "AMD Instinct MI300X", null)]);
        Assert.Equal(("", "5"), (amd[VisibleDevices.Cuda], amd[VisibleDevices.Rocr]));
        var cpu = VisibleDevices.Environment([]);
        Assert.Equal(("", ""), (cpu[VisibleDevices.Cuda], cpu[VisibleDevices.Rocr]));
        Assert.Equal(["GPU-a", "GPU-d"], VisibleDevices.Parse(env));
        Assert.Empty(VisibleDevices.Parse(cpu));
    }
}
