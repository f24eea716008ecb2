namespace Kiln.Server.Signals;

/// <summary>
/// Wakes the reconciler early after a write, so changes apply at once instead of at the next tick.
/// Wakes coalesce: many writes during one pass cause one more pass.
/// </summary>
public sealed class ReconcileSignal
{
    private readonly SemaphoreSlim _wake = new(0, 1);

    /// <summary>Requests a pass soon.</summary>
    public void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // A pass is already requested.
        }
    }

    /// <summary>Waits for a wake or the timeout, whichever comes first; true when woken.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _wake.WaitAsync(timeout, ct);
}
