namespace Kiln.Core.Deployments;

/// <summary>Pure helpers for the number of replicas a deployment should run.</summary>
public static class DesiredReplicas
{
    /// <summary><paramref name="wanted"/> clamped to [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static int Clamp(int wanted, int min, int max)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(min);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, min);
        return Math.Clamp(wanted, min, max);
    }

    /// <summary><paramref name="wanted"/> clamped to the spec's replica bounds.</summary>
    public static int Clamp(int wanted, DeploymentSpec spec) => Clamp(wanted, spec.MinReplicaCount, spec.MaxReplicaCount);

    /// <summary>What a request arriving at <paramref name="current"/> replicas asks for: at least one.</summary>
    public static int ForWake(int current, DeploymentSpec spec) => Clamp(Math.Max(current, 1), spec);

    /// <summary>
    /// The count a new deployment starts with: at least one, so that it comes up warm (and
    /// <c>--wait</c> means a replica is serving); an idle one with min 0 then scales to zero after
    /// its scale-to-zero window, as on Fireworks.
    /// </summary>
    public static int Initial(DeploymentSpec spec) => ForWake(spec.MinReplicaCount, spec);
}
