using System.Collections.Concurrent;
using Kiln.Runtime;

namespace Kiln.Server.ControlPlane.Controllers;

/// <summary>
/// What one reconciler pass shares across the deployments it works on at once: the accelerator
/// slots still free, and what is resolved once per pass (each base model's file).
/// </summary>
public sealed class PassContext(int freeSlots)
{
    private readonly Lock _slots = new();
    private readonly ConcurrentDictionary<string, object> _once = new(StringComparer.Ordinal);
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
    /// What <paramref name="resolve"/> finds for <paramref name="key"/> (such as a base model's file),
    /// resolved once per pass however many deployments ask; concurrent callers share one resolution.
    /// A key is always resolved to the same type.
    /// </summary>
    public Task<T> OnceAsync<T>(string key, Func<Task<T>> resolve) =>
        ((Lazy<Task<T>>)_once.GetOrAdd(key, _ => new Lazy<Task<T>>(resolve))).Value;
}
