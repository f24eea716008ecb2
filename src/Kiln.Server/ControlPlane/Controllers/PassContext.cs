using System.Collections.Concurrent;
using Kiln.Core.Deployments;
using Kiln.Runtime;

namespace Kiln.Server.ControlPlane.Controllers;

/// <summary>
/// What one reconciler pass shares across the deployments it works on at once: the accelerator
/// slots of each type still free, and what is resolved once per pass (each base model's file).
/// </summary>
public sealed class PassContext(Func<AcceleratorType, int> freeSlots)
{
    private readonly Lock _slots = new();
    private readonly Dictionary<AcceleratorType, int> _free = [];
    private readonly ConcurrentDictionary<string, object> _once = new(StringComparer.Ordinal);

    /// <summary>A pass over the runtime's current use: each type's slots minus those its processes hold (a cluster's are unbounded).</summary>
    public static PassContext For(IReplicaRuntime runtime) => new(type => runtime.Slots(type, 1).Free);

    /// <summary>Slots of <paramref name="type"/> no process holds and no deployment of this pass has claimed.</summary>
    public int FreeSlots(AcceleratorType type)
    {
        lock (_slots)
        {
            return Free(type);
        }
    }

    /// <summary>
    /// Plans with the free slots of <paramref name="type"/> and claims those the plan starts replicas
    /// on, atomically, so two deployments planned at once never both count the same free slot.
    /// <paramref name="plan"/> must be pure: it runs outside the lock (deployments planned at once
    /// would otherwise queue, spinning, behind each other's planning) and runs again when another
    /// claim took slots meanwhile, so the plan kept is always the one made with the count it claims from.
    /// </summary>
    public T Claim<T>(AcceleratorType type, Func<int, T> plan, Func<T, int> slotsUsed)
    {
        while (true)
        {
            var free = FreeSlots(type);
            var result = plan(free);
            lock (_slots)
            {
                // Claims only take slots, so an unchanged count means nothing was claimed meanwhile.
                if (Free(type) == free)
                {
                    _free[type] = free - slotsUsed(result);
                    return result;
                }
            }
        }
    }

    /// <summary>
    /// What <paramref name="resolve"/> finds for <paramref name="key"/> (such as a base model's file),
    /// resolved once per pass however many deployments ask; concurrent callers share one resolution.
    /// A key is always resolved to the same type.
    /// </summary>
    public Task<T> OnceAsync<T>(string key, Func<Task<T>> resolve) =>
        ((Lazy<Task<T>>)_once.GetOrAdd(key, _ => new Lazy<Task<T>>(resolve))).Value;

    // Read from the runtime once per type per pass, then counted down by claims.
    private int Free(AcceleratorType type)
    {
        if (!_free.TryGetValue(type, out var free))
        {
            _free[type] = free = freeSlots(type);
        }
        return free;
    }
}
