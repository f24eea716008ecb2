namespace Kiln.Core.Deployments;

/// <summary>The autoscaler's load-target keys, as Fireworks names them.</summary>
public static class LoadTargets
{
    /// <summary>Fraction of the replica's batch slots in use; value in (0, 1].</summary>
    public const string Default = "default";
    /// <summary>Generated tokens per second per replica.</summary>
    public const string TokensGeneratedPerSecond = "tokens_generated_per_second";
    /// <summary>Prompt tokens per second per replica.</summary>
    public const string PromptTokensPerSecond = "prompt_tokens_per_second";
    /// <summary>Requests per second per replica.</summary>
    public const string RequestsPerSecond = "requests_per_second";
    /// <summary>Requests in flight per replica.</summary>
    public const string ConcurrentRequests = "concurrent_requests";

    /// <summary>Every known key.</summary>
    public static IReadOnlyList<string> Keys { get; } =
        [Default, TokensGeneratedPerSecond, PromptTokensPerSecond, RequestsPerSecond, ConcurrentRequests];
}
