namespace Kiln.Core.Autoscaling;

/// <summary>
/// One observation of a deployment's load, taken every few seconds by the caller. Apart from
/// <see cref="BatchOccupancy"/> every figure is a total over the whole deployment.
/// </summary>
/// <remarks>
/// A sample stands for the load from its <see cref="Time"/> until the next sample, so a window is
/// covered once the history holds a sample at or before the window's start.
/// </remarks>
public sealed record LoadSample
{
    /// <summary>When the sample was taken.</summary>
    public required DateTimeOffset Time { get; init; }

    /// <summary>Replicas that were READY when the sample was taken; occupancy is averaged over them.</summary>
    public int ReadyReplicas { get; init; }

    /// <summary>Fraction of batch slots in use, averaged over the ready replicas (0..1).</summary>
    public double BatchOccupancy { get; init; }

    /// <summary>Requests in flight across the deployment, held ones included.</summary>
    public double ConcurrentRequests { get; init; }

    /// <summary>Requests per second across the deployment.</summary>
    public double RequestsPerSecond { get; init; }

    /// <summary>Generated tokens per second across the deployment.</summary>
    public double TokensGeneratedPerSecond { get; init; }

    /// <summary>Prompt tokens per second across the deployment.</summary>
    public double PromptTokensPerSecond { get; init; }
}
