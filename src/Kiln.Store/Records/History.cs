using Kiln.Core.History;

namespace Kiln.Store;

/// <summary>One history sample of one deployment, as the autoscaler writes it.</summary>
/// <param name="Account">The owning account.</param>
/// <param name="DeploymentId">The deployment.</param>
/// <param name="Point">The sample.</param>
public sealed record DeploymentHistoryRecord(string Account, string DeploymentId, HistoryPoint Point);
