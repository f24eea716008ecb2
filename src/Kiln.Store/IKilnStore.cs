using Kiln.Core.Deployments;
using Kiln.Core.Models;
using Kiln.Core.Names;

namespace Kiln.Store;

/// <summary>
/// The control plane's durable state: accounts, API keys, models, deployments, replicas and
/// deployment events. Every method is atomic. Account-scoped methods see only that account's rows;
/// the few cross-account methods exist for controllers and say so.
/// </summary>
/// <remarks>
/// Failures are <see cref="Kiln.Core.Errors.KilnError"/>s: ALREADY_EXISTS for a duplicate ID,
/// NOT_FOUND for a missing parent or target of a change, ABORTED when an optimistic-concurrency
/// check fails, FAILED_PRECONDITION when the target's state forbids the change, INVALID_ARGUMENT
/// for malformed input. Getters return null for a missing row instead of throwing. Lists are
/// ordered by ID and paged (<see cref="PageRequest"/>). Times are UTC with millisecond precision.
/// Each deployment row carries a <see cref="DeploymentRecord.Version"/> that every change but the
/// last request time moves; the writes that take an expected version are refused with ABORTED
/// when it moved, and every writer sets only the fields it owns. A write made under a
/// <see cref="LeaseFence"/> (a leader's controllers) is refused with FAILED_PRECONDITION, changing
/// nothing, once that lease has moved to another epoch.
/// </remarks>
public interface IKilnStore : IDisposable
{
    // Accounts

    /// <summary>Creates an account.</summary>
    Task<AccountRecord> CreateAccountAsync(NewAccount account, CancellationToken ct = default);

    /// <summary>The account, or null.</summary>
    Task<AccountRecord?> GetAccountAsync(string id, CancellationToken ct = default);

    /// <summary>All accounts (an administrative, cross-account list).</summary>
    Task<Page<AccountRecord>> ListAccountsAsync(PageRequest page, CancellationToken ct = default);

    /// <summary>Replaces the display name, tier and spend limit.</summary>
    Task<AccountRecord> UpdateAccountAsync(AccountRecord account, CancellationToken ct = default);

    // API keys

    /// <summary>Creates an API key; its hash must be unique across all accounts.</summary>
    Task<ApiKeyRecord> CreateApiKeyAsync(NewApiKey key, CancellationToken ct = default);

    /// <summary>The key with this hash, in whatever account (authentication), or null.</summary>
    Task<ApiKeyRecord?> FindApiKeyByHashAsync(string keyHash, CancellationToken ct = default);

    /// <summary>The account's keys.</summary>
    Task<Page<ApiKeyRecord>> ListApiKeysAsync(string account, PageRequest page, CancellationToken ct = default);

    /// <summary>Records use of a key; the time only moves forward.</summary>
    Task TouchApiKeyAsync(string account, string id, DateTimeOffset usedAt, CancellationToken ct = default);

    /// <summary>Deletes a key; false when there was none.</summary>
    Task<bool> DeleteApiKeyAsync(string account, string id, CancellationToken ct = default);

    // Models

    /// <summary>Creates a model; the account must exist.</summary>
    Task<ModelRecord> CreateModelAsync(NewModel model, CancellationToken ct = default);

    /// <summary>The model, or null.</summary>
    Task<ModelRecord?> GetModelAsync(string account, string id, CancellationToken ct = default);

    /// <summary>The account's models.</summary>
    Task<Page<ModelRecord>> ListModelsAsync(string account, PageRequest page, CancellationToken ct = default);

    /// <summary>Every model in <paramref name="state"/>, of every account (for the controller that downloads models).</summary>
    Task<IReadOnlyList<ModelRecord>> ListModelsInStateAsync(ModelState state, CancellationToken ct = default);

    /// <summary>
    /// Replaces the mutable fields (display name, file, hash, size, architecture, context length, state,
    /// status message, download progress). NOT_FOUND when the model is gone, or was deleted and created
    /// again since <paramref name="model"/> was read (its create time differs).
    /// </summary>
    Task<ModelRecord> UpdateModelAsync(ModelRecord model, CancellationToken ct = default);

    /// <summary>
    /// Deletes a model; false when there was none. FAILED_PRECONDITION while a deployment that is
    /// not deleting or deleted serves it.
    /// </summary>
    Task<bool> DeleteModelAsync(string account, string id, CancellationToken ct = default);

    // Deployed models (addons on deployments)

    /// <summary>
    /// Records an addon as DEPLOYING on a deployment. NOT_FOUND for a missing model or deployment,
    /// FAILED_PRECONDITION when the deployment is going away or already holds its <c>maxAddonCount</c>
    /// (<paramref name="defaultMaxPerDeployment"/> when it sets none), ALREADY_EXISTS when the addon is already on it.
    /// </summary>
    Task<DeployedModelRecord> CreateDeployedModelAsync(NewDeployedModel deployed, int defaultMaxPerDeployment, CancellationToken ct = default);

    /// <summary>The deployed model, or null.</summary>
    Task<DeployedModelRecord?> GetDeployedModelAsync(string account, string id, CancellationToken ct = default);

    /// <summary>The account's deployed models, optionally only those of one model and/or one deployment.</summary>
    Task<Page<DeployedModelRecord>> ListDeployedModelsAsync(string account, PageRequest page, string? modelId = null, string? deploymentId = null, CancellationToken ct = default);

    /// <summary>Every deployed model of a deployment, whatever its state (for controllers).</summary>
    Task<IReadOnlyList<DeployedModelRecord>> ListDeployedModelsOnAsync(string account, string deploymentId, CancellationToken ct = default);

    /// <summary>
    /// Every deployed model of every account, whatever its state, ordered by account, deployment and
    /// ID: one read for a controller pass over all deployments instead of one per deployment.
    /// </summary>
    Task<IReadOnlyList<DeployedModelRecord>> ListAllDeployedModelsAsync(CancellationToken ct = default);

    /// <summary>
    /// A number that every change the gateway routes by moves, in the transaction that makes the
    /// change: a deployment's new version, a replica added, removed or moved to another phase or
    /// address, a deployed model added, changed or removed. Read before the rows it covers, an
    /// unmoved number means those rows have not changed since.
    /// </summary>
    Task<long> GetRoutingGenerationAsync(CancellationToken ct = default);

    /// <summary>Moves a deployed model to <paramref name="state"/>; UNDEPLOYING is final. NOT_FOUND when it is gone.</summary>
    Task<DeployedModelRecord> SetDeployedModelStateAsync(string account, string id, DeployedModelState state, CancellationToken ct = default);

    /// <summary>
    /// Records why the addon could not be loaded (null clears it); the state stays as it is. Null
    /// when the record is gone.
    /// </summary>
    Task<DeployedModelRecord?> SetDeployedModelStatusAsync(string account, string id, DeploymentStatus? status, CancellationToken ct = default);

    /// <summary>Removes a deployed model for good; false when there was none.</summary>
    Task<bool> DeleteDeployedModelAsync(string account, string id, CancellationToken ct = default);

    // Deployments

    /// <summary>Creates a deployment in state CREATING at generation 1; the account must exist.</summary>
    Task<DeploymentRecord> CreateDeploymentAsync(NewDeployment deployment, CancellationToken ct = default);

    /// <summary>The deployment (including DELETED ones until purged), or null.</summary>
    Task<DeploymentRecord?> GetDeploymentAsync(string account, string id, CancellationToken ct = default);

    /// <summary>The account's deployments; DELETED ones only when <paramref name="showDeleted"/>.</summary>
    Task<Page<DeploymentRecord>> ListDeploymentsAsync(string account, PageRequest page, bool showDeleted = false, CancellationToken ct = default);

    /// <summary>Every deployment not yet DELETED, across accounts (for controllers).</summary>
    Task<IReadOnlyList<DeploymentRecord>> ListLiveDeploymentsAsync(CancellationToken ct = default);

    /// <summary>
    /// Deployments serving <paramref name="model"/> that are not deleting or deleted, across accounts:
    /// those with it as base model, and those it is deployed on as an addon (unless being undeployed).
    /// </summary>
    Task<IReadOnlyList<DeploymentName>> ListDeploymentsServingAsync(ModelName model, CancellationToken ct = default);

    /// <summary>
    /// Replaces the spec if the stored generation is still <paramref name="expectedGeneration"/>
    /// (else ABORTED), bumping the generation and update time, and the restart generation too when
    /// the change needs new replicas. A spec equal to the stored one changes nothing.
    /// FAILED_PRECONDITION once deletion was requested. The generation is the spec's own
    /// concurrency token: status and desired-count changes meanwhile do not abort it, and are kept
    /// (the desired count only moves into the new bounds).
    /// </summary>
    Task<DeploymentRecord> UpdateDeploymentSpecAsync(string account, string id, DeploymentSpec spec, long expectedGeneration, CancellationToken ct = default);

    /// <summary>
    /// Writes state, status and observed generation (the update time moves when the state changes);
    /// only those columns, so a concurrent spec or desired-count change is kept. Writing what is
    /// already stored changes nothing, not even the version.
    /// </summary>
    Task<DeploymentRecord> UpdateDeploymentStatusAsync(string account, string id, DeploymentStatusUpdate update, CancellationToken ct = default);

    /// <summary>
    /// <see cref="UpdateDeploymentStatusAsync(string, string, DeploymentStatusUpdate, CancellationToken)"/>, only if the
    /// row's <see cref="DeploymentRecord.Version"/> is still <paramref name="expectedVersion"/> (else ABORTED and nothing changes).
    /// </summary>
    Task<DeploymentRecord> UpdateDeploymentStatusAsync(string account, string id, DeploymentStatusUpdate update, long expectedVersion, CancellationToken ct = default);

    /// <summary>
    /// Sets the desired replica count (the autoscaler is its only writer); only that column, so a concurrent spec or status
    /// change is kept. Does not touch the generation; setting the stored count changes nothing.
    /// </summary>
    Task<DeploymentRecord> SetDesiredReplicaCountAsync(string account, string id, int desiredReplicaCount, CancellationToken ct = default);

    /// <summary>
    /// <see cref="SetDesiredReplicaCountAsync(string, string, int, CancellationToken)"/>, only if the row's
    /// <see cref="DeploymentRecord.Version"/> is still <paramref name="expectedVersion"/> (else ABORTED and nothing changes).
    /// </summary>
    Task<DeploymentRecord> SetDesiredReplicaCountAsync(string account, string id, int desiredReplicaCount, long expectedVersion, CancellationToken ct = default);

    /// <summary>Records an inference request; the time only moves forward.</summary>
    Task RecordDeploymentRequestAsync(string account, string id, DateTimeOffset requestTime, CancellationToken ct = default);

    /// <summary>
    /// Requests deletion: sets the delete time and <paramref name="reason"/>, part of the desired
    /// state like the spec; the reconciler then writes DELETING, stops replicas and writes DELETED.
    /// State and status stay as they are until then. Addons deployed on it are removed with it.
    /// Idempotent: a second request changes nothing (the first reason stays).
    /// </summary>
    Task<DeploymentRecord> RequestDeploymentDeletionAsync(string account, string id, DeletionReason? reason = null, CancellationToken ct = default);

    /// <summary>
    /// Brings a DELETED deployment back with its spec: CREATING at a new (restart) generation with
    /// <paramref name="desiredReplicaCount"/>, its deletion request withdrawn and its undelete time
    /// set (its idle clocks start again there). NOT_FOUND when there is none (never created, or
    /// purged), FAILED_PRECONDITION when it is not DELETED (live, or still DELETING).
    /// </summary>
    Task<DeploymentRecord> UndeleteDeploymentAsync(string account, string id, int desiredReplicaCount, CancellationToken ct = default);

    /// <summary>Removes a deployment with its replicas and events for good; false when there was none.</summary>
    Task<bool> PurgeDeploymentAsync(string account, string id, CancellationToken ct = default);

    // Replicas

    /// <summary>Inserts or replaces a replica; its deployment must exist.</summary>
    Task<ReplicaRecord> UpsertReplicaAsync(ReplicaRecord replica, CancellationToken ct = default);

    /// <summary>
    /// Upserts <paramref name="replicas"/> (as <see cref="UpsertReplicaAsync"/>, in list order) and
    /// appends <paramref name="events"/> (as <see cref="AppendEventsAsync"/>) in one transaction: one
    /// durable commit for a controller's writes about one deployment. Returns the records as stored.
    /// </summary>
    Task<IReadOnlyList<ReplicaRecord>> WriteReplicasAsync(IReadOnlyList<ReplicaRecord> replicas, IReadOnlyList<NewDeploymentEvent> events, CancellationToken ct = default);

    /// <summary>A deployment's replicas, by replica ID.</summary>
    Task<IReadOnlyList<ReplicaRecord>> ListReplicasAsync(string account, string deploymentId, CancellationToken ct = default);

    /// <summary>Every replica, across accounts (for adopting processes after a restart).</summary>
    Task<IReadOnlyList<ReplicaRecord>> ListAllReplicasAsync(CancellationToken ct = default);

    /// <summary>Removes a replica; false when there was none.</summary>
    Task<bool> DeleteReplicaAsync(string account, string deploymentId, string replicaId, CancellationToken ct = default);

    // Events

    /// <summary>Appends an event stamped with the store's clock; the deployment must exist.</summary>
    Task<DeploymentEvent> AppendEventAsync(string account, string deploymentId, string type, string message, CancellationToken ct = default);

    /// <summary>
    /// Appends events in one transaction, in list order, all stamped with the store's clock. Unlike
    /// <see cref="AppendEventAsync"/>, an event of a deployment that no longer exists is left out
    /// rather than failing the batch; returns how many were appended.
    /// </summary>
    Task<int> AppendEventsAsync(IReadOnlyList<NewDeploymentEvent> events, CancellationToken ct = default);

    /// <summary>The last <paramref name="limit"/> events of a deployment, oldest first.</summary>
    Task<IReadOnlyList<DeploymentEvent>> ListRecentEventsAsync(string account, string deploymentId, int limit = 20, CancellationToken ct = default);

    // Usage

    /// <summary>
    /// Adds served requests to their per-second totals and moves the deployments'
    /// <c>lastRequestTime</c> forward, in one transaction (the gateway calls this in batches).
    /// </summary>
    Task RecordRequestUsageAsync(IReadOnlyList<RequestUsage> usage, IReadOnlyList<LastRequest> lastRequests, CancellationToken ct = default);

    /// <summary>
    /// The account's request totals per (deployment, API key, model) over the buckets (seconds, or
    /// minutes once rolled up) that start in the query's range (<see cref="Kiln.Core.Billing.UsageBuckets"/>);
    /// <see cref="RequestUsage.Time"/> is the first bucket with requests.
    /// </summary>
    Task<IReadOnlyList<RequestUsage>> ListRequestUsageAsync(string account, UsageQuery query, CancellationToken ct = default);

    /// <summary>
    /// Adds the per-second totals that start before <paramref name="before"/> to their minutes and
    /// removes them, in one transaction; returns how many second buckets were rolled up.
    /// </summary>
    Task<int> RollUpRequestUsageAsync(DateTimeOffset before, CancellationToken ct = default);

    /// <summary>
    /// The account's replica billing intervals that overlap the query's range (the caller clips
    /// them). The store keeps them itself: writing a replica READY opens one, writing any other
    /// phase except STOPPING, deleting the replica or purging its deployment closes it.
    /// </summary>
    Task<IReadOnlyList<ReplicaUsageRecord>> ListReplicaUsageAsync(string account, UsageQuery query, CancellationToken ct = default);

    // History (the console's charts)

    /// <summary>
    /// Adds history samples (a second sample of a deployment at the same millisecond is dropped)
    /// and removes every sample older than <paramref name="pruneBefore"/>, in one transaction.
    /// </summary>
    Task AppendDeploymentHistoryAsync(IReadOnlyList<DeploymentHistoryRecord> samples, DateTimeOffset pruneBefore, CancellationToken ct = default);

    /// <summary>A deployment's samples in [<paramref name="start"/>, <paramref name="end"/>), oldest first.</summary>
    Task<IReadOnlyList<Kiln.Core.History.HistoryPoint>> ListDeploymentHistoryAsync(string account, string deploymentId, DateTimeOffset start, DateTimeOffset end, CancellationToken ct = default);

    // Leases (several server instances over one store)

    /// <summary>
    /// Acquires the lease <paramref name="name"/> for <paramref name="holder"/>, or renews it, in one
    /// atomic step on the store's clock: when nobody holds it (no row, or its expire time has passed)
    /// or <paramref name="holder"/> holds it unexpired, it becomes <paramref name="holder"/>'s until
    /// now + <paramref name="ttl"/>; otherwise nothing changes. The epoch grows by one on every
    /// acquisition that is not the renewal of an unexpired hold (so a holder whose lease lapsed gets
    /// a new epoch even when nobody took it meanwhile), and never goes back. Returns the lease as it
    /// stands after the call: the caller holds it when <see cref="LeaseRecord.Holder"/> is
    /// <paramref name="holder"/>, until <see cref="LeaseRecord.ExpireTime"/>. INVALID_ARGUMENT for a
    /// TTL not above zero or an empty name or holder.
    /// </summary>
    Task<LeaseRecord> TryAcquireOrRenewLeaseAsync(string name, string holder, TimeSpan ttl, CancellationToken ct = default);

    /// <summary>The lease as stored (possibly expired), or null when nobody ever took it.</summary>
    Task<LeaseRecord?> GetLeaseAsync(string name, CancellationToken ct = default);

    /// <summary>
    /// Gives the lease up at once if <paramref name="holder"/> holds it (its expire time becomes now,
    /// so the next acquirer need not wait out the TTL; the epoch stays for it to grow); false when
    /// <paramref name="holder"/> did not hold it.
    /// </summary>
    Task<bool> ReleaseLeaseAsync(string name, string holder, CancellationToken ct = default);

    // Wake requests (any gateway asks, the leader's autoscaler takes)

    /// <summary>
    /// Asks for a deployment at zero to be woken: inserts its wake request, or moves the request's
    /// time to now when one is pending (requests for one deployment coalesce). NOT_FOUND when the
    /// deployment does not exist. Writes nothing else: the autoscaler decides.
    /// </summary>
    Task RequestWakeAsync(string account, string deploymentId, CancellationToken ct = default);

    /// <summary>Removes and returns every pending wake request, atomically (for the autoscaler).</summary>
    Task<IReadOnlyList<WakeRequest>> TakeWakeRequestsAsync(CancellationToken ct = default);

    // Scale requests (the API asks, the leader's autoscaler takes)

    /// <summary>
    /// Asks the autoscaler to set a deployment's desired count to <paramref name="replicaCount"/>:
    /// inserts the request, or replaces a pending one (the last ask wins). NOT_FOUND for a missing
    /// deployment, FAILED_PRECONDITION once its deletion was requested, INVALID_ARGUMENT outside
    /// [min, max]. Writes nothing else: the autoscaler, the desired count's only writer, applies it.
    /// </summary>
    Task RequestScaleAsync(string account, string deploymentId, int replicaCount, CancellationToken ct = default);

    /// <summary>Removes and returns every pending scale request, atomically (for the autoscaler).</summary>
    Task<IReadOnlyList<ScaleRequest>> TakeScaleRequestsAsync(CancellationToken ct = default);
}
