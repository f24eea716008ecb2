using Kiln.Core.Accelerators;
using Kiln.Core.Deployments;
using Kiln.Engine.Gguf;
using Kiln.Runtime;
using Kiln.Runtime.Accelerators;
using Kiln.Runtime.Local;

namespace Kiln.ControlPlane.Tests;

/// <summary>The local runtime's replica command line, driven with the stand-in replica.</summary>
public sealed class LocalRuntimeTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "kiln-runtime-tests", Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private string Model()
    {
        Directory.CreateDirectory(_dir);
        var model = Path.Combine(_dir, "m.gguf");
        // The stand-in replica only checks that the file has token embeddings.
        new GgufWriter().Add("general.architecture", "llama").AddTensor("token_embd.weight", new float[32], 32).Write(model);
        return model;
    }

    private static ReplicaCommand FakeReplica => ReplicaCommand.FromPath(Path.Combine(AppContext.BaseDirectory, "Kiln.FakeReplica"));

    [Theory]
    [InlineData(Precision.Fp16, "f16")]
    [InlineData(Precision.Fp32, "f32")]
    public async Task Precision_and_world_size_reach_the_replica_as_its_kv_cache_type_and_threads_and_are_read_back_on_adoption(Precision precision, string kvCacheType)
    {
        var model = Model();
        var command = FakeReplica;
        var inventory = LocalInventory.Cpu(2);
        using var runtime = new LocalProcessRuntime(command, Path.Combine(_dir, "logs"), inventory);
        var replica = new ReplicaRef("acme", "d", "r-" + Guid.NewGuid().ToString("N")[..8]);

        var handle = await runtime.StartAsync(new ReplicaLaunch(replica, model, "accounts/acme/models/m", 2, precision));
        try
        {
            Assert.Equal(precision, handle.Precision);
            await Wait.ForAsync(async () => (await runtime.ProbeAsync(handle)).Health == ReplicaHealth.Ready ? "ready" : null, Steps.Timeout, "the replica");
            Assert.Equal(kvCacheType, Processes.ArgumentAfter(handle.Handle.Pid!.Value, "--kv-cache-type"));
            Assert.Equal("2", Processes.ArgumentAfter(handle.Handle.Pid!.Value, "--threads"));

            // A restarted control plane knows the replica only by its process.
            using var next = new LocalProcessRuntime(command, Path.Combine(_dir, "logs"), inventory);
            var adopted = next.Adopt(replica, handle.Handle);
            Assert.NotNull(adopted);
            Assert.True(adopted.Adopted);
            Assert.Equal(precision, adopted.Precision);
            Assert.Equal((2, model, handle.Host, handle.Port), (adopted.WorldSize, adopted.ModelPath, adopted.Host, adopted.Port));
        }
        finally
        {
            await runtime.StopAsync(handle, TimeSpan.FromSeconds(5));
        }
    }

    [Fact]
    public async Task Gpu_replicas_get_disjoint_devices_in_their_environment_and_an_adopting_runtime_hands_out_only_the_free_ones()
    {
        var model = Model();
        Assert.True(InventoryConfig.TryParseList("NVIDIA_H100_80GB:4,CPU:1", out var inventory, out var error), error);
        using var runtime = new LocalProcessRuntime(FakeReplica, Path.Combine(_dir, "logs"), inventory);
        ReplicaLaunch Launch(string id, int world, AcceleratorType type = AcceleratorType.NvidiaH100_80GB) =>
            new(new ReplicaRef("acme", "d", id), model, "accounts/acme/models/m", world, Precision.Fp32) { AcceleratorType = type };

        var a = await runtime.StartAsync(Launch("r-a", 2));
        var b = await runtime.StartAsync(Launch("r-b", 2));
        var started = new List<ReplicaHandle> { a, b };
        try
        {
            Assert.Equal(["0", "1"], a.Devices);
            Assert.Equal(["2", "3"], b.Devices);
            Assert.Equal("0,1", Processes.Environment(a.Handle.Pid!.Value)[VisibleDevices.Cuda]);
            Assert.Equal("2,3", Processes.Environment(b.Handle.Pid!.Value)[VisibleDevices.Cuda]);
            Assert.Equal("PCI_BUS_ID", Processes.Environment(b.Handle.Pid!.Value)[VisibleDevices.CudaOrder]);
            var full = await Assert.ThrowsAsync<InvalidOperationException>(() => runtime.StartAsync(Launch("r-c", 1)));
            Assert.Equal("needs 1 NVIDIA_H100_80GB(s), 0 of 4 free on this node", full.Message);
            Assert.Equal((0, 4), (runtime.Slots(AcceleratorType.NvidiaH100_80GB, 1).Free, runtime.Slots(AcceleratorType.NvidiaH100_80GB, 1).Total));
            // A CPU replica beside them sees no GPU.
            var cpu = await runtime.StartAsync(Launch("r-cpu", 1, AcceleratorType.Cpu));
            started.Add(cpu);
            Assert.Empty(cpu.Devices);
            Assert.Equal("", Processes.Environment(cpu.Handle.Pid!.Value)[VisibleDevices.Cuda]);

            // A restarted control plane reads each replica's devices back from its environment.
            using var next = new LocalProcessRuntime(FakeReplica, Path.Combine(_dir, "logs"), inventory);
            Assert.Equal(["2", "3"], next.Adopt(b.Replica, b.Handle)!.Devices);
            Assert.Equal(2, next.Slots(AcceleratorType.NvidiaH100_80GB, 1).Free);
            Assert.Equal(["0", "1"], next.Adopt(a.Replica, a.Handle)!.Devices);
            Assert.Empty(next.Adopt(cpu.Replica, cpu.Handle)!.Devices);
            Assert.Equal(0, next.Slots(AcceleratorType.Cpu, 1).Free);
            await Assert.ThrowsAsync<InvalidOperationException>(() => next.StartAsync(Launch("r-c", 1)));
            var pool = Assert.Single(next.Accelerators().Nodes).Pools.Single(p => p.Type == AcceleratorType.NvidiaH100_80GB);
            Assert.Equal((4, 0), (pool.Total, pool.Free));
            Assert.Equal(["r-a", "r-a", "r-b", "r-b"], pool.Devices.Select(d => d.ReplicaId));

            // Once one stops, its devices go to the next replica, and only those.
            await next.StopAsync(next.Find("r-a")!, TimeSpan.FromSeconds(5));
            started.Remove(a);
            var c = await next.StartAsync(Launch("r-c", 2));
            started.Add(c);
            Assert.Equal(["0", "1"], c.Devices);
            Assert.Equal("0,1", Processes.Environment(c.Handle.Pid!.Value)[VisibleDevices.Cuda]);
        }
        finally
        {
            foreach (var h in started)
            {
                await runtime.StopAsync(h, TimeSpan.FromSeconds(5));
            }
        }
    }
}
