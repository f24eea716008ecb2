namespace Kiln.Engine.Lora;

/// <summary>
/// The adapters registered with a model, by id. Copy-on-write: writers (any thread) publish a new
/// array under a lock; the forward pass reads <see cref="Snapshot"/> once per step and keeps using
/// that array, so registration never blocks or tears a running step.
/// </summary>
internal sealed class AdapterTable
{
    private readonly object _lock = new();
    private BoundAdapter?[] _slots = [];

    public BoundAdapter?[] Snapshot => Volatile.Read(ref _slots);

    public int Add(BoundAdapter adapter)
    {
        lock (_lock)
        {
            var slots = _slots;
            var id = Array.IndexOf(slots, null);
            var next = id < 0 ? new BoundAdapter?[slots.Length + 1] : (BoundAdapter?[])slots.Clone();
            if (id < 0)
            {
                slots.CopyTo(next, 0);
                id = slots.Length;
            }
            next[id] = adapter;
            Volatile.Write(ref _slots, next);
            return id;
        }
    }

    public bool Remove(int id)
    {
        lock (_lock)
        {
            var slots = _slots;
            if ((uint)id >= (uint)slots.Length || slots[id] is null) return false;
            var next = (BoundAdapter?[])slots.Clone();
            next[id] = null;
            Volatile.Write(ref _slots, next);
            return true;
        }
    }
}
