using System.Text.Json;

namespace Kiln.ControlPlane.Tests.Slurm;

/// <summary>A replica as the deployment's JSON shows it on the Slurm runtime.</summary>
public sealed record SlurmReplica(string Id, string Phase, string? JobId, int? Port, string? PendingReason)
{
    public static List<SlurmReplica> Of(Api.Reply deployment) =>
        [.. deployment.Body.GetProperty("replicas").EnumerateArray().Select(r => new SlurmReplica(
            r.GetProperty("replicaId").GetString()!,
            r.GetProperty("phase").GetString()!,
            r.TryGetProperty("slurmJobId", out var job) ? job.GetString() : null,
            r.TryGetProperty("port", out var port) && port.ValueKind == JsonValueKind.Number ? port.GetInt32() : null,
            r.TryGetProperty("pendingReason", out var why) ? why.GetString() : null))];

    public static List<SlurmReplica> Ready(Api.Reply deployment) => [.. Of(deployment).Where(r => r.Phase == "READY")];
}
