using Kiln.Core.Deployments;
using Kiln.Engine.Gguf;
using Kiln.Runtime;
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

    [Theory]
    [InlineData(Precision.Fp16, "f16")]
    [InlineData(Precision.Fp32, "f32")]
    public async Task Precision_and_world_size_reach_the_replica_as_its_kv_cache_type_and_threads_and_are_read_back_on_adoption(Precision precision, string kvCacheType)
    {
        Directory.CreateDirectory(_dir);
        var model = Path.Combine(_dir, "m.gguf");
        // The stand-in replica only checks that the file has token embeddings.
        new GgufWriter().Add("general.architecture", "llama").AddTensor("token_embd.weight", new float[32], 32).Write(model);
        var command = ReplicaCommand.FromPath(Path.Combine(AppContext.BaseDirectory, "Kiln.FakeReplica"));
        var inventory = new AcceleratorInventory(SlotKind.Cpu, 2);
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
}
