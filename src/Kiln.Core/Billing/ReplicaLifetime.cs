using Kiln.Core.Deployments;

namespace Kiln.Core.Billing;

/// <summary>The billable life of one replica: from the moment it accepted requests until it stopped.</summary>
/// <param name="Deployment">The deployment's name, <c>accounts/A/deployments/D</c>.</param>
/// <param name="ReplicaId">The replica's ID.</param>
/// <param name="AcceleratorType">The accelerator type it ran on (priced per type).</param>
/// <param name="AcceleratorCount">Accelerators it held, the world size; every one is billed.</param>
/// <param name="ReadyTime">When it became READY; time spent starting is not billed.</param>
/// <param name="StopTime">When it stopped, or null while it runs.</param>
public sealed record ReplicaLifetime(
    string Deployment,
    string ReplicaId,
    AcceleratorType AcceleratorType,
    int AcceleratorCount,
    DateTimeOffset ReadyTime,
    DateTimeOffset? StopTime);
