using Kiln.Core.Names;

namespace Kiln.Server.Gateway;

/// <summary>
/// The replicas' latest <c>/metrics</c> scrapes, which <see cref="MetricsRoute"/> re-exports. The
/// autoscaler scrapes them; the gateway only reads them through this interface.
/// </summary>
public interface IReplicaScrapes
{
    /// <summary>The latest scrape of every replica still READY, with its deployment.</summary>
    IEnumerable<(DeploymentName Deployment, string ReplicaId, PrometheusScrape Scrape)> Latest { get; }
}
