namespace Kiln.Runtime.Slurm;

/// <summary>How Kiln submits replicas to a Slurm cluster.</summary>
public sealed record SlurmOptions
{
    /// <summary>
    /// Where replicas write their logs and endpoint files. Every node must mount it at the same path
    /// and the server must read it: a replica reports the port it picked through a file here.
    /// </summary>
    public required string RunDir { get; init; }

    /// <summary>The partition (<c>sbatch --partition</c>), or null for the cluster's default.</summary>
    public string? Partition { get; init; }

    /// <summary>The account charged (<c>sbatch --account</c>), or null for the user's default.</summary>
    public string? Account { get; init; }

    /// <summary>More <c>sbatch</c> arguments, e.g. <c>--qos=serving</c> or <c>--constraint=a100</c>.</summary>
    public IReadOnlyList<string> ExtraArgs { get; init; } = [];

    /// <summary>Address replicas listen on, on their node (all interfaces: the gateway reaches them from another machine).</summary>
    public string ReplicaBindHost { get; init; } = "0.0.0.0";

    /// <summary>The folder holding Slurm's client commands (<c>sbatch</c>, <c>squeue</c>, ...), or null to find them on <c>PATH</c>.</summary>
    public string? BinDir { get; init; }

    /// <summary>How long one Slurm command may take before it counts as failed.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How often the node inventory (<c>sinfo</c>) is read again.</summary>
    public TimeSpan InventoryRefresh { get; init; } = TimeSpan.FromSeconds(30);
}
