using System.Collections.Concurrent;
using Kiln.Core.Names;

namespace Kiln.Server.Signals;

/// <summary>
/// Deployments at zero replicas that a held request wants woken. The gateway asks; the autoscaler,
/// the only writer of the desired replica count, takes the requests at once (not at its next tick)
/// and raises the count. Requests for one deployment coalesce.
/// </summary>
public sealed class WakeRequests
{
    private readonly ConcurrentDictionary<DeploymentName, byte> _pending = new();
    private readonly SemaphoreSlim _signal = new(0, 1);

    /// <summary>Asks for <paramref name="deployment"/> to be woken.</summary>
    public void Request(DeploymentName deployment)
    {
        if (_pending.TryAdd(deployment, 0))
        {
            try
            {
                _signal.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already signalled.
            }
        }
    }

    /// <summary>Takes every pending request.</summary>
    public IReadOnlyList<DeploymentName> Take()
    {
        var taken = new List<DeploymentName>();
        foreach (var name in _pending.Keys)
        {
            if (_pending.TryRemove(name, out _))
            {
                taken.Add(name);
            }
        }
        return taken;
    }

    /// <summary>Waits for a request or the timeout; true when one came.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _signal.WaitAsync(timeout, ct);
}
