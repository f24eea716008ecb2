using Kiln.Core.Accelerators;
using Kiln.Core.Deployments;

namespace Kiln.Core.Tests.Accelerators;

public class PlacementTests
{
    private static AcceleratorPool Pool(AcceleratorType? type, int total) => new(type, total, total, [], []);

    private static AcceleratorInventory Of(params NodeAccelerators[] nodes) => new("test", nodes, []);

    private static readonly AcceleratorInventory FourH100 = Of(new NodeAccelerators("local", [Pool(AcceleratorType.NvidiaH100_80GB, 4)]));

    [Fact]
    public void A_type_and_count_some_node_holds_is_placeable()
    {
        Assert.Null(Placement.Check(FourH100, AcceleratorType.NvidiaH100_80GB, 4));
        Assert.Null(Placement.Check(FourH100, AcceleratorType.NvidiaH100_80GB, 1));
    }

    [Fact]
    public void More_than_one_node_holds_is_refused_on_the_count_naming_what_exists()
    {
        var v = Placement.Check(FourH100, AcceleratorType.NvidiaH100_80GB, 8);
        Assert.NotNull(v);
        Assert.Equal("acceleratorCount", v.Field);
        Assert.Equal("no node holds 8 x NVIDIA_H100_80GB (at most 4 on one node); available: local: 4 x NVIDIA_H100_80GB", v.Description);
    }

    [Fact]
    public void A_type_no_node_holds_is_refused_on_the_type()
    {
        var v = Placement.Check(FourH100, AcceleratorType.Cpu, 1);
        Assert.Equal("acceleratorType", v!.Field);
        Assert.Equal("no node holds CPU; available: local: 4 x NVIDIA_H100_80GB", v.Description);
    }

    [Fact]
    public void Counts_do_not_add_up_across_nodes()
    {
        var two = Of(new NodeAccelerators("n1", [Pool(AcceleratorType.NvidiaA100_80GB, 4)]), new NodeAccelerators("n2", [Pool(AcceleratorType.NvidiaA100_80GB, 4)]));
        Assert.Equal("acceleratorCount", Placement.Check(two, AcceleratorType.NvidiaA100_80GB, 8)!.Field);
        Assert.Contains("n1: 4 x NVIDIA_A100_80GB; n2: 4 x NVIDIA_A100_80GB", Placement.Check(two, AcceleratorType.NvidiaA100_80GB, 8)!.Description);
    }

    [Fact]
    public void Gpus_of_unknown_type_take_any_gpu_type_but_not_cpu()
    {
        var slurm = Of(new NodeAccelerators("node1", [Pool(null, 6), Pool(AcceleratorType.Cpu, 2)]));
        Assert.Null(Placement.Check(slurm, AcceleratorType.NvidiaH200_141GB, 4));
        Assert.Equal("acceleratorCount", Placement.Check(slurm, AcceleratorType.NvidiaA100_80GB, 8)!.Field);
        Assert.Null(Placement.Check(slurm, AcceleratorType.Cpu, 2));
        Assert.NotNull(Placement.Check(slurm, AcceleratorType.Cpu, 4));
        Assert.Equal(AcceleratorType.NvidiaA100_80GB, Placement.DefaultType(slurm));
    }

    [Fact]
    public void An_unknown_inventory_refuses_nothing() =>
        Assert.Null(Placement.Check(Of(), AcceleratorType.NvidiaB200_180GB, 8));

    [Fact]
    public void The_default_type_is_the_largest_gpu_pool_else_cpu()
    {
        Assert.Equal(AcceleratorType.NvidiaH100_80GB, Placement.DefaultType(FourH100));
        Assert.Equal(AcceleratorType.Cpu, Placement.DefaultType(Of(new NodeAccelerators("local", [Pool(AcceleratorType.Cpu, 2)]))));
        Assert.Equal(AcceleratorType.Cpu, Placement.DefaultType(Of()));
        var mixed = Of(new NodeAccelerators("local", [Pool(AcceleratorType.NvidiaL4_24GB, 1), Pool(AcceleratorType.NvidiaA100_40GB, 2), Pool(AcceleratorType.Cpu, 8)]));
        Assert.Equal(AcceleratorType.NvidiaA100_40GB, Placement.DefaultType(mixed));
    }
}
