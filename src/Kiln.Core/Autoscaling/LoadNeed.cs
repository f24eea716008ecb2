using System.Globalization;
using Kiln.Core.Deployments;

namespace Kiln.Core.Autoscaling;

/// <summary>The replicas one load target asks for in one sample.</summary>
/// <param name="Target">The load-target key, e.g. "default" or "concurrent_requests".</param>
/// <param name="TotalLoad">The deployment's total load for that key.</param>
/// <param name="PerReplicaTarget">The policy's target per replica.</param>
/// <param name="Replicas">ceil(total / target): the replicas needed to bring each one to its target.</param>
public readonly record struct LoadNeed(string Target, double TotalLoad, double PerReplicaTarget, int Replicas)
{
    /// <summary>"default load 0.93 &gt; target 0.8": the load each of <paramref name="replicas"/> would carry.</summary>
    public string Describe(int replicas, string comparison) =>
        $"{Target} load {Number(TotalLoad / Math.Max(replicas, 1))} {comparison} target {Number(PerReplicaTarget)}";

    private static string Number(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}

/// <summary>Turns a load sample into a replica count, as Fireworks' load targets do.</summary>
public static class LoadNeeds
{
    // Absorbs floating-point noise so that a load exactly at target (0.8 / 0.8) needs 1, not 2.
    private const double Epsilon = 1e-9;

    /// <summary>
    /// The largest need over the policy's targets (ties go to the earlier key in
    /// <see cref="LoadTargets.Keys"/>). Unknown keys and non-positive targets are ignored; a
    /// policy without a usable target falls back to the default 0.8 batch occupancy.
    /// </summary>
    /// <param name="sample">The load.</param>
    /// <param name="targets">The policy's targets.</param>
    /// <param name="headroom">
    /// Fraction of each target to plan for: 1 for scaling up; below 1 for scaling down, so that
    /// fewer replicas are chosen only when they would sit clearly below target.
    /// </param>
    public static LoadNeed Largest(LoadSample sample, IReadOnlyDictionary<string, double> targets, double headroom = 1)
    {
        LoadNeed? best = null;
        foreach (var key in LoadTargets.Keys)
        {
            if (!targets.TryGetValue(key, out var target) || !(target > 0) || double.IsInfinity(target))
            {
                continue;
            }
            var need = For(sample, key, target, headroom);
            if (best is null || need.Replicas > best.Value.Replicas)
            {
                best = need;
            }
        }
        return best ?? For(sample, LoadTargets.Default, DeploymentDefaults.DefaultLoadTarget, headroom);
    }

    /// <summary>ceil(total load / (per-replica target × headroom)) for one key.</summary>
    public static LoadNeed For(LoadSample sample, string key, double perReplicaTarget, double headroom = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(perReplicaTarget);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(headroom);
        var total = Math.Max(0, TotalLoad(sample, key));
        var ratio = total / (perReplicaTarget * headroom);
        var replicas = double.IsFinite(ratio) ? (int)Math.Min(Math.Ceiling(ratio - Epsilon), int.MaxValue / 4) : 0;
        return new(key, total, perReplicaTarget, Math.Max(0, replicas));
    }

    private static double TotalLoad(LoadSample s, string key) => key switch
    {
        // Occupancy is a per-replica average; the deployment's total is that times the ready count.
        LoadTargets.Default => s.BatchOccupancy * s.ReadyReplicas,
        LoadTargets.ConcurrentRequests => s.ConcurrentRequests,
        LoadTargets.RequestsPerSecond => s.RequestsPerSecond,
        LoadTargets.TokensGeneratedPerSecond => s.TokensGeneratedPerSecond,
        LoadTargets.PromptTokensPerSecond => s.PromptTokensPerSecond,
        _ => throw new ArgumentOutOfRangeException(nameof(key), key, "unknown load target"),
    };
}
