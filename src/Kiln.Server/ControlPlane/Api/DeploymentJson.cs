using Kiln.Core.Replicas;
using Kiln.Core.Deployments;
using Kiln.Core.Errors;
using Kiln.Core.Time;
using Kiln.Store;

namespace Kiln.Server.ControlPlane.Api;

/// <summary>A deployment as the API shows it: spec, status, replica counts and (on GET) events and replicas.</summary>
public static class DeploymentJson
{
    /// <summary>How many recent events a GET includes.</summary>
    public const int EventCount = 20;

    /// <summary>
    /// The JSON object of <paramref name="d"/>; <paramref name="detail"/> adds events and replicas.
    /// <paramref name="defaultMaxAddonCount"/> is shown as <c>maxAddonCount</c> when the deployment sets none.
    /// </summary>
    public static async Task<object> RenderAsync(IKilnStore store, int defaultMaxAddonCount, DeploymentRecord d, bool detail, CancellationToken ct)
    {
        var replicas = await store.ListReplicasAsync(d.Account, d.Id, ct);
        var events = detail ? await store.ListRecentEventsAsync(d.Account, d.Id, EventCount, ct) : null;
        var stats = ReplicaStats.From(replicas.Select(r => r.Phase));
        var spec = d.Spec;
        var policy = spec.AutoscalingPolicy;
        var unusedSince = d.LastRequestTime is { } last && last > d.IdleSince ? last : d.IdleSince;
        var (state, status) = Shown(d);
        DateTimeOffset? expire = spec.UnusedAutoDeleteDuration > TimeSpan.Zero && !state.IsGoingAway()
            ? unusedSince + spec.UnusedAutoDeleteDuration
            : null;
        return new
        {
            name = d.Name.ToString(),
            displayName = spec.DisplayName,
            description = spec.Description,
            baseModel = spec.BaseModel,
            state = state.ToWireName(),
            status = new { code = status.Code.ToWireName(), message = status.Message },
            // As Kubernetes objects carry them: a spec change is rolled out once observedGeneration reaches generation.
            generation = d.Generation,
            observedGeneration = d.ObservedGeneration,
            minReplicaCount = spec.MinReplicaCount,
            maxReplicaCount = spec.MaxReplicaCount,
            desiredReplicaCount = d.DesiredReplicaCount,
            replicaCount = stats.Ready,
            replicaStats = new
            {
                pendingSchedulingReplicaCount = stats.Pending,
                downloadingModelReplicaCount = stats.Downloading,
                initializingReplicaCount = stats.Initializing,
                readyReplicaCount = stats.Ready,
            },
            autoscalingPolicy = new
            {
                scaleUpWindow = ProtoDuration.Format(policy.ScaleUpWindow),
                scaleDownWindow = ProtoDuration.Format(policy.ScaleDownWindow),
                scaleToZeroWindow = ProtoDuration.Format(policy.ScaleToZeroWindow),
                loadTargets = policy.LoadTargets,
            },
            acceleratorType = spec.AcceleratorType.ToWireName(),
            acceleratorCount = spec.AcceleratorCount,
            unusedAutoDeleteDuration = ProtoDuration.Format(spec.UnusedAutoDeleteDuration),
            enableAddons = spec.EnableAddons,
            maxAddonCount = spec.MaxAddonCount ?? defaultMaxAddonCount,
            precision = spec.Precision.ToWireName(),
            engine = spec.Engine,
            engineArgs = spec.EngineArgs,
            draftModel = spec.DraftModel,
            draftTokenCount = spec.DraftTokenCount,
            ngramSpeculationLength = spec.NgramSpeculationLength,
            deploymentShape = spec.DeploymentShape,
            maxBatchSize = spec.MaxBatchSize,
            maxContextLength = spec.MaxContextLength,
            prefixCacheMb = spec.PrefixCacheMb,
            createTime = ApiJson.Time(d.CreateTime),
            updateTime = ApiJson.Time(d.UpdateTime),
            deleteTime = ApiJson.Time(d.DeleteTime),
            expireTime = ApiJson.Time(expire),
            createdBy = d.CreatedBy,
            lastRequestTime = ApiJson.Time(d.LastRequestTime),
            events = events?.Select(e => new { time = ApiJson.Time(e.Time), type = e.Type, message = e.Message }),
            replicas = detail
                ? replicas.Select(r => new
                {
                    replicaId = r.ReplicaId,
                    phase = r.Phase.ToWireName(),
                    // Operators know a replica by what their tools show: a process ID, or a Slurm job ID for squeue and scancel.
                    pid = RuntimeHandle.Parse(r.RuntimeHandle)?.Pid,
                    slurmJobId = RuntimeHandle.Parse(r.RuntimeHandle)?.SlurmJobId,
                    pendingReason = r.WaitReason,
                    host = r.Host,
                    port = r.Port,
                    // The GPUs its process was given (its CUDA_VISIBLE_DEVICES / ROCR_VISIBLE_DEVICES).
                    devices = r.Devices,
                    startTime = ApiJson.Time(r.StartTime),
                    readyTime = ApiJson.Time(r.ReadyTime),
                    failureCount = r.FailureCount,
                    lastError = r.LastError,
                })
                : null,
        };
    }

    /// <summary>
    /// The state and status to show. A requested deletion shows as DELETING at once, as Kubernetes
    /// shows an object with a deletion timestamp as terminating, although the reconciler writes that
    /// state only on its next pass.
    /// </summary>
    private static (DeploymentState State, DeploymentStatus Status) Shown(DeploymentRecord d) =>
        d.DeleteTime is not null && !d.State.IsGoingAway()
            ? (DeploymentState.Deleting, d.DeletionReason is { } why ? new DeploymentStatus(why.Code, why.Message) : new DeploymentStatus(StatusCode.Ok, "deletion requested"))
            : (d.State, d.Status);
}
