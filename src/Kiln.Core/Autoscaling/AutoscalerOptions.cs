namespace Kiln.Core.Autoscaling;

/// <summary>Limits on how fast the autoscaler moves; the defaults suit every deployment.</summary>
public sealed record AutoscalerOptions
{
    /// <summary>The defaults.</summary>
    public static AutoscalerOptions Default { get; } = new();

    /// <summary>
    /// One step up reaches at most the larger of current × this and current + <see cref="MaxScaleUpStep"/>
    /// (default 2: doubling), so small deployments can still grow quickly.
    /// </summary>
    public double MaxScaleUpFactor { get; init; } = 2;

    /// <summary>One step up adds at most the larger of this and what <see cref="MaxScaleUpFactor"/> allows (default 4).</summary>
    public int MaxScaleUpStep { get; init; } = 4;

    /// <summary>One step down keeps at least ceil(current × this) replicas (default 0.5: halving).</summary>
    public double ScaleDownKeepFraction { get; init; } = 0.5;

    /// <summary>
    /// Scaling down to N replicas needs the load to fit N replicas at (1 − this) × target (default
    /// 0.1: 90%). Scaling up uses the target itself, so the two thresholds are apart and load that
    /// wobbles around a target cannot push the count up and down in turn.
    /// </summary>
    public double ScaleDownTolerance { get; init; } = 0.1;

    /// <summary>Load-driven changes pause when the newest sample is older than this (default 1m), so a broken scrape does not act on old load.</summary>
    public TimeSpan MaxSampleAge { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>The most replicas one step up may reach from <paramref name="current"/> (current ≥ 1).</summary>
    public int UpperStepBound(int current) =>
        (int)Math.Min(Math.Max(Math.Floor(current * MaxScaleUpFactor), (double)current + MaxScaleUpStep), int.MaxValue);

    /// <summary>The fewest replicas one step down may reach from <paramref name="current"/> (at least 1).</summary>
    public int LowerStepBound(int current) => Math.Max(1, (int)Math.Ceiling(current * ScaleDownKeepFraction));
}
