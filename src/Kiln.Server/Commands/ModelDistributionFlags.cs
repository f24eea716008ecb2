using System.CommandLine;
using System.Globalization;
using Kiln.Core.ModelFiles;
using Kiln.Server.ControlPlane.Distribution;

namespace Kiln.Server.Commands;

/// <summary><c>kiln server</c>'s flags for how replicas get their model files, checked together.</summary>
internal sealed class ModelDistributionFlags
{
    private readonly Option<string?> _mode = new("--model-distribution")
    {
        Description = $"How replicas get model files: {string.Join(", ", ModelDistributions.Names)} (default: shared with --model-share, else local)",
    };
    private readonly Option<string?> _share = new("--model-share") { Description = "Store model files in this directory, which every node mounts at the same path" };
    private readonly Option<string?> _cache = new("--model-cache") { Description = "Model cache on each node that replicas download into (absolute path; default /var/tmp/kiln-model-cache)" };
    private readonly Option<string?> _cacheMax = new("--model-cache-max-bytes") { Description = "Prune each node's model cache to this many bytes, least recently used first (default: no bound)" };
    private readonly Option<string?> _advertise = new("--advertise-url") { Description = "The server's URL as replicas on other nodes reach it (default: from --host and --port)" };
    private readonly Option<string?> _rate = new("--model-download-bytes-per-second") { Description = "Cap each model download stream at this rate", Hidden = true };

    public static ModelDistributionFlags Create() => new();

    /// <summary>Adds the flags and their checks to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        foreach (var o in new[] { _mode, _share, _cache, _cacheMax, _advertise, _rate })
        {
            command.Options.Add(o);
        }
        command.Validators.Add(r =>
        {
            var mode = r.GetValue(_mode);
            if (mode is not null && !ModelDistributions.TryParse(mode, out _))
            {
                r.AddError($"--model-distribution: must be {string.Join(", ", ModelDistributions.Names)}, got '{mode}'");
            }
            if (r.GetValue(_share) is { } share && (share.Length == 0 || !Path.IsPathFullyQualified(share)))
            {
                r.AddError($"--model-share: must be an absolute directory path, got '{share}'");
            }
            if (r.GetValue(_cache) is { } cache && (cache.Length == 0 || cache[0] != '/'))
            {
                r.AddError($"--model-cache: must be an absolute directory path, got '{cache}'");
            }
            if (r.GetValue(_share) is not null && mode is "local" or "download")
            {
                r.AddError($"--model-share: only with --model-distribution shared (or without --model-distribution), not '{mode}'");
            }
            foreach (var (option, name) in new[] { (_cacheMax, "--model-cache-max-bytes"), (_rate, "--model-download-bytes-per-second") })
            {
                if (r.GetValue(option) is { } text && PositiveLong(text) is null)
                {
                    r.AddError($"{name}: must be a whole number >= 1, got '{text}'");
                }
            }
            if (r.GetValue(_advertise) is { } url && !IsHttpUrl(url))
            {
                r.AddError($"--advertise-url: must be an absolute http(s) URL, got '{url}'");
            }
        });
    }

    /// <summary>The options the (validated) flags ask for.</summary>
    public ModelDistributionOptions Read(ParseResult r, bool remoteRuntime)
    {
        ModelDistribution? asked = ModelDistributions.TryParse(r.GetValue(_mode), out var m) ? m : null;
        var share = r.GetValue(_share);
        var defaults = new ModelDistributionOptions();
        return new ModelDistributionOptions
        {
            Mode = ModelDistributions.Resolve(asked, share is not null, remoteRuntime),
            SharePath = share,
            CacheDir = r.GetValue(_cache) ?? defaults.CacheDir,
            CacheMaxBytes = r.GetValue(_cacheMax) is { } max ? PositiveLong(max) : null,
            AdvertiseUrl = r.GetValue(_advertise) is { } url ? new Uri(url) : null,
            DownloadBytesPerSecond = r.GetValue(_rate) is { } rate ? PositiveLong(rate) : null,
        };
    }

    private static long? PositiveLong(string text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1 ? n : null;

    private static bool IsHttpUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var u) && (u.Scheme == Uri.UriSchemeHttp || u.Scheme == Uri.UriSchemeHttps);
}
