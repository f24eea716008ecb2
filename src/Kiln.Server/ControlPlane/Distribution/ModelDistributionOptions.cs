using Kiln.Core.ModelFiles;

namespace Kiln.Server.ControlPlane.Distribution;

/// <summary>How replicas get their model files (<c>kiln server --model-distribution ...</c>).</summary>
public sealed record ModelDistributionOptions
{
    /// <summary>The way in force (see <see cref="ModelDistributions.Resolve"/>).</summary>
    public ModelDistribution Mode { get; init; } = ModelDistribution.Local;

    /// <summary>Where model files are stored when every node mounts it (<c>--model-share</c>); null keeps them in the data directory.</summary>
    public string? SharePath { get; init; }

    /// <summary>The model cache on each node replicas download into (<c>--model-cache</c>); an absolute path.</summary>
    public string CacheDir { get; init; } = "/var/tmp/kiln-model-cache";

    /// <summary>The size each node's cache is pruned to (<c>--model-cache-max-bytes</c>); null for no bound.</summary>
    public long? CacheMaxBytes { get; init; }

    /// <summary>The control plane's address as replicas reach it (<c>--advertise-url</c>); null derives it from the listen address.</summary>
    public Uri? AdvertiseUrl { get; init; }

    /// <summary>Caps each download stream (<c>--model-download-bytes-per-second</c>): spares the server's network; tests make downloads observable with it.</summary>
    public long? DownloadBytesPerSecond { get; init; }
}
