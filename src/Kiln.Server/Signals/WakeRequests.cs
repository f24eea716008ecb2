using System.Collections.Concurrent;
using Kiln.Core.Names;
using Kiln.Store;

namespace Kiln.Server.Signals;

/// <summary>
/// Deployments at zero replicas that a held request wants woken. The gateway asks; the autoscaler,
/// the only writer of the desired replica count, runs on the leader only. On the leader the request
/// stays in memory and the autoscaler takes it at once (not at its next tick); on any other instance
/// it goes through the store (<see cref="IKilnStore.RequestWakeAsync"/>), at most once per
/// <see cref="ForwardInterval"/> per deployment, where the leader's autoscaler picks it up.
/// Requests for one deployment coalesce.
/// </summary>
public sealed class WakeRequests(IKilnStore store, Leadership leadership, ILogger<WakeRequests> log, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>How often one deployment's wake is written to the store while requests wait for it.</summary>
    public static readonly TimeSpan ForwardInterval = TimeSpan.FromMilliseconds(500);

    private readonly ConcurrentDictionary<DeploymentName, byte> _pending = new();
    private readonly ConcurrentDictionary<DeploymentName, long> _forwarded = new();
    private readonly SemaphoreSlim _signal = new(0, 1);

    /// <summary>Asks for <paramref name="deployment"/> to be woken.</summary>
    public void Request(DeploymentName deployment)
    {
        if (!leadership.IsLeader)
        {
            Forward(deployment);
            return;
        }
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

    /// <summary>Takes every pending request made on this instance.</summary>
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

    private void Forward(DeploymentName deployment)
    {
        var now = _time.GetTimestamp();
        var claimed = _forwarded.TryGetValue(deployment, out var last)
            ? _time.GetElapsedTime(last, now) >= ForwardInterval && _forwarded.TryUpdate(deployment, now, last)
            : _forwarded.TryAdd(deployment, now);
        if (!claimed)
        {
            return;
        }
        _ = Task.Run(async () =>
        {
            try
            {
                await store.RequestWakeAsync(deployment.Account, deployment.Deployment);
            }
            catch (Exception e)
            {
                // The held request asks again while it waits.
                log.LogWarning("asking the leader to wake {Deployment} failed: {Error}", deployment, e.Message);
            }
        });
    }
}
