using Kiln.Runtime;
using Kiln.Runtime.Accelerators;
using Kiln.Runtime.Local;
using Kiln.Runtime.Slurm;
using Kiln.Server.ControlPlane;

namespace Kiln.Server.Hosting;

/// <summary>Opens the replica runtime <c>kiln server --runtime</c> names.</summary>
internal static class RuntimeFactory
{
    /// <summary>The runtime, or null after printing why it cannot run (Slurm missing or not answering).</summary>
    public static async Task<IReplicaRuntime?> CreateAsync(ServerOptions options, DataDirectory dir, CancellationToken ct)
    {
        var command = options.ReplicaCommand ?? ReplicaCommand.ForCurrentProcess();
        if (options.Runtime == RuntimeKind.Local)
        {
            var inventory = options.Accelerators is { } given
                ? options.CpuSlots is { } cpu ? given with { CpuSlots = cpu } : given
                : AcceleratorDiscovery.Discover(options.CpuSlots);
            // Discovery never stops a start: what it could not use is said once, here.
            foreach (var warning in inventory.Warnings)
            {
                Console.Error.WriteLine($"kiln server: warning: {warning}");
            }
            return new LocalProcessRuntime(command, dir.Replicas, inventory);
        }
        var slurm = options.Slurm ?? new SlurmOptions { RunDir = Path.Combine(dir.Root, "slurm") };
        try
        {
            return await SlurmRuntime.ConnectAsync(slurm, command, ct);
        }
        catch (Exception e) when (e is SlurmException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"kiln server: --runtime slurm: cannot use the Slurm cluster: {e.Message}");
            return null;
        }
    }
}
