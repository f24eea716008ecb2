using Kiln.Core.Deployments;
using Kiln.Core.Names;
using Kiln.Store;

namespace Kiln.Server.Gateway;

/// <summary>
/// The gateway's view of one live deployment: its latest record, its READY replicas, the requests
/// it holds and its counters. Endpoints keep their identity (and outstanding counts) across refreshes.
/// </summary>
public sealed class DeploymentRoute(DeploymentName name, int maxHeld)
{
    private volatile ReplicaEndpoint[] _endpoints = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _lastRequestTicks;

    /// <summary><c>accounts/A/deployments/D</c>.</summary>
    public DeploymentName Name { get; } = name;

    /// <summary>The record as of the last refresh.</summary>
    public DeploymentRecord Record { get; private set; } = null!;

    /// <summary>The model name replicas serve (<c>accounts/A/models/M</c>).</summary>
    public string Model => Record.Spec.BaseModel;

    /// <summary>
    /// Addons DEPLOYED on it (<c>accounts/A/models/M</c>): every READY replica holds them, so a
    /// request naming one may go to any replica, which applies the adapter of that name.
    /// </summary>
    public IReadOnlySet<string> Addons { get; private set; } = new HashSet<string>();

    /// <summary>True when its replicas answer to <paramref name="model"/>: the base model or a deployed addon.</summary>
    public bool Serves(string model) => model == Model || Addons.Contains(model);

    /// <summary>
    /// Addons on it that a replica refused to load, with the reason: requests naming one get 412
    /// rather than 404, since it is deployed but cannot serve.
    /// </summary>
    public IReadOnlyDictionary<string, string> FailedAddons { get; private set; } = new Dictionary<string, string>();

    /// <summary>Installs the addons of the last refresh.</summary>
    public void SetAddons(IReadOnlySet<string> addons, IReadOnlyDictionary<string, string>? failed = null)
    {
        Addons = addons;
        FailedAddons = failed ?? new Dictionary<string, string>();
    }

    /// <summary>READY replicas.</summary>
    public IReadOnlyList<ReplicaEndpoint> Endpoints => _endpoints;

    /// <summary>Requests waiting for a replica.</summary>
    public HoldQueue Held { get; } = new(maxHeld);

    /// <summary>Load and outcome counters.</summary>
    public DeploymentCounters Counters { get; } = new();

    /// <summary>
    /// The newest request's arrival or end, if any arrived since this gateway started. The end counts
    /// so that idleness (scale to zero, auto-delete) starts when traffic stops, not when a long or
    /// long-held request arrived.
    /// </summary>
    public DateTimeOffset? LastRequestTime
    {
        get
        {
            var t = Interlocked.Read(ref _lastRequestTicks);
            return t == 0 ? null : new DateTimeOffset(t, TimeSpan.Zero);
        }
    }

    /// <summary>Records an arrival or an end.</summary>
    public void Touch(DateTimeOffset now)
    {
        var ticks = now.UtcTicks;
        long seen;
        while ((seen = Interlocked.Read(ref _lastRequestTicks)) < ticks && Interlocked.CompareExchange(ref _lastRequestTicks, ticks, seen) != seen)
        {
        }
    }

    /// <summary>Installs a fresh record and READY replica set; wakes waiters when the set changed.</summary>
    public void Update(DeploymentRecord record, IReadOnlyList<(string Id, Uri Uri)> ready)
    {
        Record = record;
        var old = _endpoints;
        var same = old.Length == ready.Count && ready.All(r => old.Any(e => e.ReplicaId == r.Id && e.BaseUri == r.Uri));
        if (same)
        {
            return;
        }
        _endpoints = [.. ready.Select(r => old.FirstOrDefault(e => e.ReplicaId == r.Id && e.BaseUri == r.Uri) ?? new ReplicaEndpoint(r.Id, r.Uri))];
        SignalChange();
    }

    /// <summary>Completes the current change signal (the replica set changed or the route went away).</summary>
    public void SignalChange() => Interlocked.Exchange(ref _changed, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>Completes when the READY set next changes.</summary>
    public Task Changed => Volatile.Read(ref _changed).Task;

    /// <summary>True while it may serve: its deletion was not requested.</summary>
    public bool IsServing => Record.DeleteTime is null && Record.State is not (DeploymentState.Deleting or DeploymentState.Deleted);
}
