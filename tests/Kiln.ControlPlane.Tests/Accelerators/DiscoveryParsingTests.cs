using Kiln.Core.Accelerators;
using Kiln.Core.Deployments;
using Kiln.Runtime.Accelerators;

namespace Kiln.ControlPlane.Tests.Accelerators;

/// <summary>Reading nvidia-smi and rocm-smi, and discovery over them, with their output given.</summary>
public class DiscoveryParsingTests
{
    private const string FourH100 = """
        0, NVIDIA H100 80GB HBM3, 81559 MiB, GPU-1d3a6b8c-0000-4000-8000-000000000000
        1, NVIDIA H100 80GB HBM3, 81559 MiB, GPU-1d3a6b8c-0000-4000-8000-000000000001
        2, NVIDIA H100 80GB HBM3, 81559 MiB, GPU-1d3a6b8c-0000-4000-8000-000000000002
        3, NVIDIA H100 80GB HBM3, 81559 MiB, GPU-1d3a6b8c-0000-4000-8000-000000000003

        """;

    [Fact]
    public void Nvidia_smi_lines_become_typed_devices_with_uuid_and_memory()
    {
        var found = NvidiaSmi.Parse(FourH100);
        Assert.Empty(found.Warnings);
        Assert.Equal(4, found.Devices.Count);
        Assert.Equal(new AcceleratorDevice(AcceleratorType.NvidiaH100_80GB, DeviceVendor.Nvidia, 2, "GPU-1d3a6b8c-0000-4000-8000-000000000002", "NVIDIA H100 80GB HBM3", 81559), found.Devices[2]);
    }

    [Fact]
    public void Nvidia_smi_without_units_or_uuid_and_with_a_40GB_A100_is_read()
    {
        var found = NvidiaSmi.Parse("0, NVIDIA A100-SXM4-40GB, 40960, [N/A]\n1, NVIDIA A100-SXM4-80GB, [N/A], GPU-x\n");
        Assert.Empty(found.Warnings);
        Assert.Equal([AcceleratorType.NvidiaA100_40GB, AcceleratorType.NvidiaA100_80GB], found.Devices.Select(d => d.Type));
        Assert.Equal(("0", (long?)40960), (found.Devices[0].Id, found.Devices[0].MemoryMiB));
        Assert.Equal(("GPU-x", (long?)null), (found.Devices[1].Id, found.Devices[1].MemoryMiB));
    }

    [Fact]
    public void Garbage_and_unknown_gpus_are_warnings_not_devices()
    {
        var found = NvidiaSmi.Parse("""
            NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.
            0, Tesla V100-SXM2-16GB, 16384 MiB, GPU-v
            x, NVIDIA H100 80GB HBM3, 81559 MiB, GPU-y
            1, NVIDIA L4, 23034 MiB, GPU-l
            1, NVIDIA L4, 23034 MiB, GPU-l2
            """);
        Assert.Equal(["GPU-l"], found.Devices.Select(d => d.Id));
        Assert.Equal(4, found.Warnings.Count);
        Assert.Contains(found.Warnings, w => w.Contains("Tesla V100-SXM2-16GB") && w.Contains("matches no Kiln accelerator type"));
        Assert.Contains(found.Warnings, w => w.Contains("couldn't communicate"));
        Assert.Contains(found.Warnings, w => w.Contains("listed twice"));
    }

    [Fact]
    public void Rocm_smi_json_after_warning_lines_becomes_amd_devices()
    {
        var found = RocmSmi.Parse("""
            WARNING: AMD GPU device(s) is/are in a low-power state. Check power control/runtime_status
            {"card0": {"Card Series": "AMD Instinct MI300X OAM", "Card SKU": "M3000100", "Unique ID": "0x18f68e602b8a790f", "VRAM Total Memory (B)": "205822885888"},
             "card1": {"Card series": "AMD Instinct MI300X OAM", "VRAM Total Memory (B)": "205822885888"},
             "card2": {"Card Series": "AMD Radeon PRO W7900"},
             "system": {"Driver version": "6.7.0"}}
            """);
        Assert.Equal(2, found.Devices.Count);
        Assert.All(found.Devices, d => Assert.Equal((AcceleratorType.AmdMi300X_192GB, DeviceVendor.Amd), (d.Type, d.Vendor)));
        Assert.Equal(["GPU-18f68e602b8a790f", "1"], found.Devices.Select(d => d.Id));
        Assert.Equal(196288, found.Devices[0].MemoryMiB);
        Assert.Contains("AMD Radeon PRO W7900", Assert.Single(found.Warnings));
    }

    [Fact]
    public void Rocm_smi_that_prints_no_json_is_one_warning() =>
        Assert.Single(RocmSmi.Parse("ERROR: no GPUs found").Warnings);

    [Fact]
    public void Discovery_takes_each_tool_as_optional_and_a_failing_one_is_a_warning()
    {
        string? NoTools(string program, IReadOnlyList<string> args) => null;
        var cpuOnly = AcceleratorDiscovery.Discover(run: NoTools);
        Assert.Equal((0, Environment.ProcessorCount, "cores"), (cpuOnly.Devices.Count, cpuOnly.CpuSlots, cpuOnly.Source));
        Assert.Equal(3, AcceleratorDiscovery.Discover(cpuSlots: 3, run: NoTools).CpuSlots);

        string? Nvidia(string program, IReadOnlyList<string> args) =>
            program == NvidiaSmi.Program && args.SequenceEqual(NvidiaSmi.Arguments) ? FourH100 : throw new ToolFailedException("exited with code 2: no ROCm");
        var gpus = AcceleratorDiscovery.Discover(run: Nvidia);
        Assert.Equal((4, 0, "nvidia-smi"), (gpus.Count(AcceleratorType.NvidiaH100_80GB), gpus.CpuSlots, gpus.Source));
        Assert.Equal("rocm-smi: exited with code 2: no ROCm; its GPUs are not offered", Assert.Single(gpus.Warnings));
        Assert.Equal("4 x NVIDIA_H100_80GB (nvidia-smi)", gpus.ToString());
        Assert.Equal(2, AcceleratorDiscovery.Discover(cpuSlots: 2, run: Nvidia).CpuSlots);
    }

    [Fact]
    public void A_real_tool_that_is_missing_or_fails_does_not_throw()
    {
        Assert.Null(AcceleratorDiscovery.RunTool("kiln-no-such-tool-" + Guid.NewGuid().ToString("N"), []));
        Assert.StartsWith("exited with code 3", Assert.Throws<ToolFailedException>(() => AcceleratorDiscovery.RunTool("/bin/sh", ["-c", "echo broken >&2; exit 3"])).Message);
        Assert.Equal("ok\n", AcceleratorDiscovery.RunTool("/bin/sh", ["-c", "echo ok"]));
    }
}
