using Kiln.Core.Accelerators;
using Kiln.Core.Deployments;
using Kiln.Runtime.Accelerators;

namespace Kiln.ControlPlane.Tests.Accelerators;

/// <summary>The inventory <c>--accelerators</c> and <c>--accelerators-file</c> give.</summary>
public class InventoryConfigTests
{
    [Fact]
    public void A_list_numbers_gpus_per_vendor_and_sets_cpu_slots()
    {
        Assert.True(InventoryConfig.TryParseList("NVIDIA_H100_80GB:2,AMD_MI300X_192GB:1,NVIDIA_L4_24GB:1,CPU:8", out var inv, out var error), error);
        Assert.Equal(8, inv.CpuSlots);
        Assert.Equal([("NVIDIA_H100_80GB", 0), ("NVIDIA_H100_80GB", 1), ("AMD_MI300X_192GB", 0), ("NVIDIA_L4_24GB", 2)],
            inv.Devices.Select(d => (d.Type.ToWireName(), d.Index)));
        Assert.Equal(DeviceVendor.Amd, inv.Devices[2].Vendor);
        Assert.True(InventoryConfig.TryParseList("NVIDIA_A100_80GB:2", out var gpuOnly, out _));
        Assert.Equal(0, gpuOnly.CpuSlots);
    }

    [Theory]
    [InlineData("TPU:4", "\"TPU:4\" is not TYPE:COUNT with TYPE one of NVIDIA_A100_80GB,")]
    [InlineData("NVIDIA_H100_80GB", "\"NVIDIA_H100_80GB\" is not TYPE:COUNT")]
    [InlineData("NVIDIA_H100_80GB:0", "\"NVIDIA_H100_80GB:0\": the count must be a whole number from 1 to 1024")]
    [InlineData("NVIDIA_H100_80GB:-1", "\"NVIDIA_H100_80GB:-1\": the count must be")]
    [InlineData("CPU:2,CPU:4", "CPU is given twice")]
    public void A_bad_list_names_the_bad_item(string text, string expected)
    {
        Assert.False(InventoryConfig.TryParseList(text, out _, out var error));
        Assert.StartsWith(expected, error);
    }

    [Fact]
    public void A_file_names_each_device_and_may_offer_a_gpu_discovery_does_not_know()
    {
        Assert.True(InventoryConfig.TryParseFile("""
            {"cpuSlots": 4, "devices": [
              {"type": "NVIDIA_A10G_24GB", "index": 4, "uuid": "GPU-aa", "name": "NVIDIA A10", "memoryMiB": 23028},
              {"type": "NVIDIA_A10G_24GB", "index": 5}
            ]}
            """, out var inv, out var error), error);
        Assert.Equal(4, inv.CpuSlots);
        Assert.Equal(new AcceleratorDevice(AcceleratorType.NvidiaA10G_24GB, DeviceVendor.Nvidia, 4, "GPU-aa", "NVIDIA A10", 23028), inv.Devices[0]);
        Assert.Equal(("5", "NVIDIA_A10G_24GB"), (inv.Devices[1].Id, inv.Devices[1].Name));
    }

    [Theory]
    [InlineData("[]", "must be a JSON object")]
    [InlineData("{", "not valid JSON")]
    [InlineData("""{"gpus": []}""", "unknown field \"gpus\"")]
    [InlineData("""{"cpuSlots": -1}""", "cpuSlots must be a whole number of at least 0, got -1")]
    [InlineData("""{"devices": {}}""", "devices must be an array")]
    [InlineData("""{"devices": [{"type": "CPU", "index": 0}]}""", "devices[0].type: expected a GPU type")]
    [InlineData("""{"devices": [{"type": "NVIDIA_L4_24GB"}]}""", "devices[0]: needs index")]
    [InlineData("""{"devices": [{"index": 1}]}""", "devices[0]: needs type")]
    [InlineData("""{"devices": [{"type": "NVIDIA_L4_24GB", "index": 0, "uuid": "a,b"}]}""", "devices[0].uuid: expected a non-empty string without commas")]
    [InlineData("""{"devices": [{"type": "NVIDIA_L4_24GB", "index": 0, "colour": "red"}]}""", "devices[0]: unknown field \"colour\"")]
    [InlineData("""{"devices": [{"type": "NVIDIA_L4_24GB", "index": 0}, {"type": "NVIDIA_L4_24GB", "index": 0}]}""", "devices[1]: device 0 of Nvidia is listed twice")]
    public void A_bad_file_names_the_bad_entry(string json, string expected)
    {
        Assert.False(InventoryConfig.TryParseFile(json, out _, out var error));
        Assert.Contains(expected, error);
    }
}
