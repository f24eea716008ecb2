using System.Collections.Concurrent;
using Kiln.Runtime;

namespace Kiln.Server.ControlPlane.Controllers;

/// <summary>
/// What one reconciler pass shares across the deployments it works on at once: the accelerator
/// slots still free, and each base model's file, resolved once per pass.
/// </summary>
public sealed class PassContext(int freeSlots)
{
    private readonly Lock _slots = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<(string? Path, string? Problem)>>> _modelFiles = new(StringComparer.Ordinal);
    private int _free = freeSlots;

    /// <summary>A pass over the runtime's current use: its slots minus those its processes hold (a cluster's are unbounded).</summary>
    public static PassContext For(IReplicaRuntime runtime) =>
        new(runtime.Slots(Kiln.Core.Deployments.AcceleratorType.Cpu, 1).Free);

    /// <summary>Slots no process holds and no deployment of this pass has claimed.</summary>
    public int FreeSlots
    {
        get
        {
            lock (_slots)
            {
                return _free;
            }
        }
    }

    /// <summary>
    /// Plans with the free slots and claims those the plan starts replicas on, atomically, so two
    /// deployments planned at once never both count the same free slot.
    /// </summary>
    public T Claim<T>(Func<int, T> plan, Func<T, int> slotsUsed)
    {
        lock (_slots)
        {
            var result = plan(_free);
            _free -= slotsUsed(result);
            return result;
        }
    }

    /// <summary>
    /// The file of a base model (or why there is none), resolved by <paramref name="resolve"/> once per
    /// pass however many deployments serve it; concurrent callers share one resolution.
    /// </summary>
    public Task<(string? Path, string? Problem)> ModelFileAsync(string baseModel, Func<Task<(string? Path, string? Problem)>> resolve) =>
        _modelFiles.GetOrAdd(baseModel, _ => new Lazy<Task<(string?, string?)>>(resolve)).Value;
}
