using Kiln.Core.Names;

namespace Kiln.Server.Gateway;

/// <summary>
/// One replica's scrape: <paramref name="Live"/> when taken for this request, otherwise the last
/// one that succeeded, taken at <paramref name="At"/>.
/// </summary>
public sealed record ReplicaScrape(DeploymentName Deployment, string ReplicaId, PrometheusScrape Scrape, DateTimeOffset At, bool Live);

/// <summary>
/// The replicas' <c>/metrics</c> scrapes, which <see cref="MetricsRoute"/> re-exports. The control
/// plane scrapes them; the gateway only reads them through this interface.
/// </summary>
public interface IReplicaScrapes
{
    /// <summary>
    /// Scrapes every READY replica of <paramref name="routes"/> now, in parallel and within a short
    /// timeout; a replica that does not answer in time gives its last scrape (Live false), or none.
    /// </summary>
    Task<IReadOnlyList<ReplicaScrape>> CurrentAsync(IEnumerable<DeploymentRoute> routes, CancellationToken ct);
}
