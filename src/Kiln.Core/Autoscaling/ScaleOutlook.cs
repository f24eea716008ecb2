using Kiln.Core.Deployments;
using Kiln.Core.Errors;

namespace Kiln.Core.Autoscaling;

/// <summary>
/// <c>:scale</c> (firectl's <c>scale deployment --replica-count</c>): which counts may be asked for,
/// and what the autoscaler does with one, in words for the API's answer and the CLI.
/// </summary>
public static class ScaleOutlook
{
    /// <summary>INVALID_ARGUMENT naming the bounds when <paramref name="replicaCount"/> is outside [min, max].</summary>
    public static void RequireWithinBounds(int replicaCount, DeploymentSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (replicaCount < 0)
        {
            throw KilnError.InvalidArgument([new FieldViolation("replicaCount", $"must not be negative, got {replicaCount}")]);
        }
        if (replicaCount < spec.MinReplicaCount || replicaCount > spec.MaxReplicaCount)
        {
            var fix = replicaCount > spec.MaxReplicaCount
                ? $"raise maxReplicaCount to at least {replicaCount} first"
                : $"lower minReplicaCount to at most {replicaCount} first";
            throw KilnError.InvalidArgument([new FieldViolation("replicaCount",
                $"{replicaCount} is outside the deployment's bounds [minReplicaCount {spec.MinReplicaCount}, maxReplicaCount {spec.MaxReplicaCount}]; {fix} (update deployment)")]);
        }
    }

    /// <summary>What the autoscaler does once it set <paramref name="count"/>, e.g. for the answer to <c>:scale</c>.</summary>
    public static string Describe(DeploymentSpec spec, int count)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return $"the autoscaler sets the desired replica count to {count} at once; then {Next(spec.AutoscalingPolicy, spec.MinReplicaCount, count)}";
    }

    /// <summary>What follows a requested count: which window must pass before load moves it, and where to.</summary>
    internal static string Next(AutoscalingPolicy policy, int min, int count)
    {
        var down = Autoscaler.Duration(policy.ScaleDownWindow);
        var up = Autoscaler.Duration(policy.ScaleUpWindow);
        if (count == 0)
        {
            return "it stays at zero until a request arrives, which wakes it to its first replica";
        }
        var lower = min > 0
            ? $"lower it (not below minReplicaCount {min}) only after {down} (the scale-down window) of lower load"
            : $"lower it only after {down} (the scale-down window) of lower load, and to zero after {Autoscaler.Duration(policy.ScaleToZeroWindow)} (the scale-to-zero window) without requests";
        return $"load may raise it after {up} (the scale-up window) above its targets, and {lower}";
    }
}
