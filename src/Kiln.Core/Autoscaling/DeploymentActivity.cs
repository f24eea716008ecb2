namespace Kiln.Core.Autoscaling;

/// <summary>
/// What the autoscaler sees of a deployment's traffic before it scrapes the replicas: this
/// instance's gateway counters, the store's last-request time (which every instance's gateway
/// advances) and the READY replica set.
/// </summary>
public sealed record DeploymentActivity
{
    /// <summary>IDs of the READY replicas.</summary>
    public required IReadOnlyCollection<string> ReadyReplicas { get; init; }

    /// <summary>Requests this instance's gateway has counted in so far (a counter).</summary>
    public long Arrivals { get; init; }

    /// <summary>Requests in flight at this instance's gateway, held ones included.</summary>
    public long InFlight { get; init; }

    /// <summary>Requests held at this instance's gateway, waiting for a replica.</summary>
    public int Held { get; init; }

    /// <summary>The deployment's last-request time in the store.</summary>
    public DateTimeOffset? LastRequestTime { get; init; }

    /// <summary>This instance's gateway's last arrival or end for the deployment.</summary>
    public DateTimeOffset? GatewayLastRequestTime { get; init; }
}
