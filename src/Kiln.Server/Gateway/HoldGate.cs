using Kiln.Core.Deployments;
using Kiln.Server.Signals;

namespace Kiln.Server.Gateway;

/// <summary>
/// Holds a request while its deployment has no READY replica it may use: asks for a deployment at
/// zero to be woken (<see cref="WakeRequests"/>), prompts the reconciler and the directory while it
/// waits, and gives up with 503 DEPLOYMENT_SCALING_UP past the hold timeout or when the deployment's
/// hold queue is full (at once with 503 DEPLOYMENT_FAILED for a failed deployment).
/// </summary>
public sealed class HoldGate(WakeRequests wakes, ReconcileSignal reconcile, ReplicaDirectory directory, GatewayOptions options)
{
    // While requests wait, the reconciler probes starting replicas this often instead of once per interval.
    private static readonly TimeSpan PromptInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Seconds a client should wait before retrying a 503.</summary>
    public const int RetryAfterSeconds = 5;

    /// <summary>
    /// Waits until <paramref name="route"/> has an endpoint outside <paramref name="exclude"/>;
    /// the caller has entered the route's hold queue.
    /// </summary>
    public async Task WaitAsync(DeploymentRoute route, IReadOnlyCollection<ReplicaEndpoint> exclude, DateTimeOffset deadline, CancellationToken ct)
    {
        while (!route.Endpoints.Any(e => !exclude.Contains(e)))
        {
            if (!route.IsServing || directory.Find(route.Name) != route)
            {
                throw new OpenAiError(503, $"Deployment {route.Name} is being deleted.", "service_unavailable", "DEPLOYMENT_DELETED");
            }
            ThrowIfFailed(route);
            Wake(route);
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

    /// <summary>
    /// Asks the autoscaler, the desired count's only writer, to wake a deployment at zero: it raises
    /// the count to the first replica at once, with no scale-up window.
    /// </summary>
    private void Wake(DeploymentRoute route)
    {
        if (route.Record.DesiredReplicaCount == 0)
        {
            wakes.Request(route.Name);
        }
    }
}
