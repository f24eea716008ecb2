namespace Kiln.Server.Gateway;

/// <summary>How the inference gateway holds, retries and reports.</summary>
public sealed record GatewayOptions
{
    /// <summary>How long a request may wait for a replica of a waking deployment before it gets 503.</summary>
    public TimeSpan HoldTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Requests one deployment may hold at once; more get 503 at once.</summary>
    public int MaxHeldRequests { get; init; } = 256;

    /// <summary>Most replicas one request is sent to before giving up (only failures before the first byte are retried).</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>How often the replica directory is re-read from the store when nothing prompts it sooner.</summary>
    public TimeSpan DirectoryRefresh { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often request usage and last-request times are written to the store.</summary>
    public TimeSpan UsageFlush { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How a deployment's requests are spread over its replicas.</summary>
    public RoutingPolicy Routing { get; init; } = RoutingPolicy.Prefix;

    /// <summary>
    /// Under <see cref="RoutingPolicy.Prefix"/>, a prefix's replica takes no more than this many times
    /// the average outstanding requests; past that its requests go to the next replica in their order.
    /// </summary>
    public double PrefixLoadFactor { get; init; } = 1.25;

    /// <summary>
    /// Largest inference request body accepted: the replica's default limit for a 128K-token context
    /// (128 bytes a token), which covers every smaller context's too; each replica applies its own.
    /// </summary>
    public int MaxBodyBytes { get; init; } = DefaultMaxBodyBytes;

    /// <summary>The default of <see cref="MaxBodyBytes"/>.</summary>
    public const int DefaultMaxBodyBytes = 128 * Kiln.Server.Replica.ReplicaOptions.BodyBytesPerToken * 1024;
}

/// <summary>How the gateway picks a replica for a request.</summary>
public enum RoutingPolicy
{
    /// <summary>Sessions and shared prompt prefixes to their replica (<see cref="PrefixAffinityBalancer"/>), the rest to the least loaded.</summary>
    Prefix,

    /// <summary>Every request to the replica with the fewest outstanding requests.</summary>
    LeastOutstanding,
}
