namespace Kiln.Core.Deployments;

/// <summary>How the autoscaler moves a deployment between its min and max replica counts.</summary>
/// <remarks>Equality compares <see cref="LoadTargets"/> by content, so specs compare by value.</remarks>
public sealed record AutoscalingPolicy
{
    /// <summary>How long load must stay high before scaling up (default 30s).</summary>
    public TimeSpan ScaleUpWindow { get; init; } = DeploymentDefaults.ScaleUpWindow;

    /// <summary>How long load must stay low before scaling down (default 10m).</summary>
    public TimeSpan ScaleDownWindow { get; init; } = DeploymentDefaults.ScaleDownWindow;

    /// <summary>Idle time after which a deployment with min 0 drops to zero replicas (default 1h).</summary>
    public TimeSpan ScaleToZeroWindow { get; init; } = DeploymentDefaults.ScaleToZeroWindow;

    /// <summary>Per-replica targets by key (see <see cref="Deployments.LoadTargets"/>); default {"default": 0.8}.</summary>
    public IReadOnlyDictionary<string, double> LoadTargets { get; init; } = DeploymentDefaults.LoadTargets;

    /// <summary>Value equality, with load targets compared as maps.</summary>
    public bool Equals(AutoscalingPolicy? other) =>
        other is not null
        && ScaleUpWindow == other.ScaleUpWindow
        && ScaleDownWindow == other.ScaleDownWindow
        && ScaleToZeroWindow == other.ScaleToZeroWindow
        && LoadTargets.Count == other.LoadTargets.Count
        && LoadTargets.All(kv => other.LoadTargets.TryGetValue(kv.Key, out var v) && v.Equals(kv.Value));

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = HashCode.Combine(ScaleUpWindow, ScaleDownWindow, ScaleToZeroWindow, LoadTargets.Count);
        foreach (var kv in LoadTargets.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            hash = HashCode.Combine(hash, kv.Key, kv.Value);
        }
        return hash;
    }
}
