using Kiln.Core.Deployments;
using Kiln.Core.Errors;
using Kiln.Server.Signals;
using Kiln.Store;

namespace Kiln.Server.Gateway;

/// <summary>
/// Holds a request while its deployment has no READY replica it may use: wakes the deployment
/// (desired count from zero to its first replica at once, no scale-up window), prompts the
/// reconciler and the directory while it waits, and gives up with 503 DEPLOYMENT_SCALING_UP past
/// the hold timeout or when the deployment's hold queue is full.
/// </summary>
public sealed class HoldGate(IKilnStore store, ReconcileSignal reconcile, ReplicaDirectory directory, GatewayOptions options, ILogger<HoldGate> log)
{
    // While requests wait, the reconciler probes starting replicas this often instead of once per interval.
    private static readonly TimeSpan PromptInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Seconds a client should wait before retrying a 503.</summary>
    public const int RetryAfterSeconds = 5;

    /// <summary>
    /// Waits until <paramref name="route"/> has an endpoint outside <paramref name="exclude"/>;
    /// the caller has entered the route's hold queue.
    /// </summary>
    public async Task WaitAsync(DeploymentRoute route, IReadOnlyCollection<string> exclude, DateTimeOffset deadline, CancellationToken ct)
    {
        while (!route.Endpoints.Any(e => !exclude.Contains(e.ReplicaId)))
        {
            if (!route.IsServing || directory.Find(route.Name) != route)
            {
                throw new OpenAiError(503, $"Deployment {route.Name} is being deleted.", "service_unavailable", "DEPLOYMENT_DELETED");
            }
            ThrowIfFailed(route);
            await WakeAsync(route, ct);
            var left = deadline - DateTimeOffset.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw OpenAiError.ScalingUp(
                    $"Deployment {route.Name} is scaling up and had no ready replica within {options.HoldTimeout.TotalSeconds:0.###}s; retry later.",
                    RetryAfterSeconds);
            }
            reconcile.Wake();
            directory.Prompt();
            var changed = route.Changed;
            await Task.WhenAny(changed, Task.Delay(left < PromptInterval ? left : PromptInterval, ct));
            ct.ThrowIfCancellationRequested();
        }
    }

    /// <summary>
    /// Answers at once for a FAILED deployment without a replica to use: no replica is coming until
    /// its spec changes, so a held request would only wait out the hold timeout.
    /// </summary>
    public static void ThrowIfFailed(DeploymentRoute route)
    {
        if (route.Record.State == DeploymentState.Failed)
        {
            var why = string.IsNullOrEmpty(route.Record.Status.Message) ? "" : $": {route.Record.Status.Message}";
            throw OpenAiError.DeploymentFailed(
                $"Deployment {route.Name} has FAILED{why}. Update or recreate it; requests are not held for a failed deployment.");
        }
    }

    /// <summary>Sets the desired count to the first replica when it is zero (one writer at a time).</summary>
    private async Task WakeAsync(DeploymentRoute route, CancellationToken ct)
    {
        var d = route.Record;
        if (d.DesiredReplicaCount > 0 || !route.BeginWake())
        {
            return;
        }
        try
        {
            var fresh = await store.GetDeploymentAsync(d.Account, d.Id, ct);
            if (fresh is null || fresh.DesiredReplicaCount > 0 || fresh.DeleteTime is not null)
            {
                return;
            }
            var to = Math.Clamp(1, fresh.Spec.MinReplicaCount, fresh.Spec.MaxReplicaCount);
            var updated = await store.SetDesiredReplicaCountAsync(d.Account, d.Id, to, ct);
            var why = $"wake 0 -> {to}: {route.Held.Count} request(s) held at the gateway";
            log.LogInformation("{Deployment} Autoscaled: {Message}", d.Name, why);
            await store.AppendEventAsync(d.Account, d.Id, "Autoscaled", why, ct);
            route.Update(updated, route.Endpoints.Select(e => (e.ReplicaId, e.BaseUri)).ToList());
            reconcile.Wake();
        }
        catch (KilnError e) when (e.Code is StatusCode.FailedPrecondition or StatusCode.NotFound)
        {
            log.LogInformation("not waking {Deployment}: {Reason}", d.Name, e.Message);
        }
        finally
        {
            route.EndWake();
        }
    }
}
