namespace Kiln.Server.Gateway;

/// <summary>
/// The bounded set of requests one deployment holds while it has no ready replica. It only counts:
/// held requests wait on the route's change signal, and whoever enters must leave exactly once.
/// </summary>
public sealed class HoldQueue(int capacity)
{
    private int _count;

    /// <summary>Requests held now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The most requests held at once.</summary>
    public int Capacity { get; } = capacity;

    /// <summary>Takes a place; false when the queue is full.</summary>
    public bool TryEnter()
    {
        while (true)
        {
            var n = Volatile.Read(ref _count);
            if (n >= Capacity)
            {
                return false;
            }
            if (Interlocked.CompareExchange(ref _count, n + 1, n) == n)
            {
                return true;
            }
        }
    }

    /// <summary>Gives a place back.</summary>
    public void Leave()
    {
        if (Interlocked.Decrement(ref _count) < 0)
        {
            throw new InvalidOperationException("left the hold queue more often than entered");
        }
    }
}
