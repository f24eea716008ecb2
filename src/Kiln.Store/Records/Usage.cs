using Kiln.Core.Deployments;

namespace Kiln.Store;

/// <summary>
/// Inference requests served for one (account, API key, deployment, model) in one second; the
/// gateway adds these up in memory and writes them in batches.
/// </summary>
/// <param name="Account">The caller's account.</param>
/// <param name="ApiKeyId">The key that made the requests.</param>
/// <param name="DeploymentId">The deployment that served them.</param>
/// <param name="Model">The model served (<c>accounts/A/models/M</c>).</param>
/// <param name="Time">Any instant in the second; the store keeps the second's start.</param>
/// <param name="Requests">Requests served.</param>
/// <param name="PromptTokens">Prompt tokens, as the replicas reported them.</param>
/// <param name="CompletionTokens">Generated tokens, as the replicas reported them.</param>
public sealed record RequestUsage(
    string Account, string ApiKeyId, string DeploymentId, string Model, DateTimeOffset Time,
    long Requests, long PromptTokens, long CompletionTokens);

/// <summary>The newest request seen for a deployment (moves <c>lastRequestTime</c> forward).</summary>
/// <param name="Account">The owning account.</param>
/// <param name="DeploymentId">The deployment.</param>
/// <param name="Time">When the request arrived.</param>
public sealed record LastRequest(string Account, string DeploymentId, DateTimeOffset Time);

/// <summary>Which usage to read: a time range (either end open) and optionally one deployment.</summary>
/// <param name="Start">Inclusive start, or null for the beginning.</param>
/// <param name="End">Exclusive end, or null for now.</param>
/// <param name="DeploymentId">Only this deployment, or null for all.</param>
public sealed record UsageQuery(DateTimeOffset? Start = null, DateTimeOffset? End = null, string? DeploymentId = null);

/// <summary>
/// One billable interval of a replica: from the moment it was READY until it stopped (or until now
/// while <see cref="StopTime"/> is null). The store opens and closes these as it writes replica
/// phases, so they survive the replica's record and its deployment's purge.
/// </summary>
public sealed record ReplicaUsageRecord(
    string Account, string DeploymentId, string ReplicaId, AcceleratorType AcceleratorType, int AcceleratorCount,
    DateTimeOffset ReadyTime, DateTimeOffset? StopTime);
