using Kiln.Core.ModelFiles;
using Kiln.Runtime;
using Kiln.Server.Auth;
using Kiln.Store;

namespace Kiln.Server.ControlPlane.Distribution;

/// <summary>
/// Tells the reconciler where a replica finds its model: the server's own path (local runtime, or
/// a filesystem every node mounts), or, when replicas download, the file's place in the node's
/// cache and the URL, digest and token to fetch it with.
/// </summary>
public sealed class ModelDelivery(ModelDistributionOptions options, ServedFiles files, ReplicaTokens tokens, ControlPlaneAddress address)
{
    /// <summary>True when replicas open models where the server keeps them (nothing is downloaded).</summary>
    public bool InPlace => options.Mode != ModelDistribution.Download;

    /// <summary>The path replicas load the model from, given the server's path of its file.</summary>
    public async Task<DeliveredModel> PlanAsync(ModelRecord model, string serverPath, CancellationToken ct)
    {
        if (options.Mode != ModelDistribution.Download)
        {
            return new DeliveredModel(model, serverPath, null);
        }
        var served = await files.DigestOrRecordedAsync(model, serverPath, ct);
        return new DeliveredModel(model, ModelCacheLayout.FileFor(options.CacheDir, served.Sha256), served);
    }

    /// <summary>What replica <paramref name="replica"/> needs to download <paramref name="delivered"/>; null when it opens the file in place.</summary>
    public ModelDownload? DownloadFor(DeliveredModel delivered, ReplicaRef replica) => delivered.Served is not { } served
        ? null
        : new ModelDownload(
            new Uri(address.BaseUri, ModelDownloadApi.PathOf(delivered.Model.Account, delivered.Model.Id)).ToString(),
            served.Sha256, options.CacheDir, options.CacheMaxBytes, tokens.Mint(replica.Account, replica.ReplicaId));
}

/// <summary>A model as the replicas of one pass get it.</summary>
/// <param name="Model">The model (a base model, or an addon served merged).</param>
/// <param name="ReplicaPath">The path a replica loads.</param>
/// <param name="Served">The file replicas download, or null when they open <paramref name="ReplicaPath"/> in place.</param>
public sealed record DeliveredModel(ModelRecord Model, string ReplicaPath, ServedFile? Served);

/// <summary>The control plane's base URL as replicas reach it.</summary>
/// <param name="BaseUri">E.g. <c>http://10.0.0.5:8420/</c>.</param>
public sealed record ControlPlaneAddress(Uri BaseUri)
{
    /// <summary>
    /// The advertised URL if given; else the listen address, with a wildcard address replaced by
    /// this machine's name (a replica elsewhere cannot connect to 0.0.0.0).
    /// </summary>
    public static ControlPlaneAddress From(Uri? advertised, string host, int port)
    {
        if (advertised is not null)
        {
            return new(advertised);
        }
        var reachable = host is "0.0.0.0" or "::" or "[::]" or "*" or "+" ? System.Net.Dns.GetHostName() : host;
        var formatted = reachable.Contains(':') && !reachable.StartsWith('[') ? $"[{reachable}]" : reachable;
        return new(new Uri($"http://{formatted}:{port}/"));
    }
}
