namespace Kiln.Core.History;

/// <summary>
/// One sample of a deployment's recent past, taken by the autoscaler on each pass and kept for a
/// day: what the console charts. Rates and latencies cover the time since the previous sample.
/// </summary>
public sealed record HistoryPoint
{
    /// <summary>When the sample was taken.</summary>
    public required DateTimeOffset Time { get; init; }

    /// <summary>READY replicas.</summary>
    public int Replicas { get; init; }

    /// <summary>The desired replica count as the autoscaler read it.</summary>
    public int DesiredReplicas { get; init; }

    /// <summary>
    /// Load per replica as a fraction of its target (1 = at target), for the load target that asks
    /// for the most replicas (<see cref="LoadTarget"/>).
    /// </summary>
    public double Load { get; init; }

    /// <summary>The load-target key <see cref="Load"/> is measured against, e.g. "default".</summary>
    public string LoadTarget { get; init; } = "";

    /// <summary>Requests held at the gateway waiting for a replica.</summary>
    public int HeldRequests { get; init; }

    /// <summary>Requests per second that arrived.</summary>
    public double RequestsPerSecond { get; init; }

    /// <summary>Generated tokens per second.</summary>
    public double TokensPerSecond { get; init; }

    /// <summary>Median duration of the requests that finished since the previous sample; null when none did.</summary>
    public double? P50LatencySeconds { get; init; }

    /// <summary>99th-percentile duration of those requests; null when none finished.</summary>
    public double? P99LatencySeconds { get; init; }
}
