using Kiln.Runtime.Local;
using Kiln.Server.ControlPlane;
using Kiln.Server.ControlPlane.Addons;
using Kiln.Server.ControlPlane.Controllers;
using Kiln.Server.Gateway;

namespace Kiln.Server.Hosting;

/// <summary>How <c>kiln server</c> runs.</summary>
public sealed record ServerOptions
{
    /// <summary>Address to bind (loopback by default: the API is reachable from this machine only).</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>Port to bind.</summary>
    public int Port { get; init; } = 8420;

    /// <summary>Where the store, model files, replica logs and the admin key live.</summary>
    public required string DataDir { get; init; }

    /// <summary>A PostgreSQL database (connection string or postgres:// URL) for the store; null keeps SQLite in the data directory.</summary>
    public string? Store { get; init; }

    /// <summary>CPU slots to offer (default: one per core on a machine without GPUs, none beside GPUs).</summary>
    public int? CpuSlots { get; init; }

    /// <summary>The local runtime's accelerators as the configuration names them (<c>--accelerators</c>, <c>--accelerators-file</c>); null discovers them.</summary>
    public Kiln.Runtime.Accelerators.LocalInventory? Accelerators { get; init; }

    /// <summary>Inference gateway behaviour.</summary>
    public GatewayOptions Gateway { get; init; } = new();

    /// <summary>
    /// Longest warm-up of the gateway's request path after the server starts listening, through an
    /// in-process gateway and stand-in replica (<see cref="GatewayWarmup"/>); zero skips it.
    /// </summary>
    public TimeSpan GatewayWarmup { get; init; } = Hosting.GatewayWarmup.DefaultBudget;

    /// <summary>Autoscaler and reaper timing.</summary>
    public ControllerOptions Controllers { get; init; } = new();

    /// <summary>Prices per accelerator-hour.</summary>
    public Kiln.Core.Billing.PriceTable Prices { get; init; } = Kiln.Core.Billing.PriceTable.Default;

    /// <summary>Timing of the leader lease the controllers run under.</summary>
    public Kiln.Core.Leadership.LeaseOptions Lease { get; init; } = Kiln.Core.Leadership.LeaseOptions.Default;

    /// <summary>Reconciler timing.</summary>
    public ReconcilerOptions Reconciler { get; init; } = new();

    /// <summary>Limits on addons.</summary>
    public AddonOptions Addons { get; init; } = new();

    /// <summary>How replicas get their model files.</summary>
    public Kiln.Server.ControlPlane.Distribution.ModelDistributionOptions Models { get; init; } = new();

    /// <summary>How the server downloads models imported from a URL, hf:// or the catalog.</summary>
    public Kiln.Server.ControlPlane.Imports.ModelImportOptions Imports { get; init; } = new();

    /// <summary>Where replicas run: child processes of this server, or Slurm jobs.</summary>
    public RuntimeKind Runtime { get; init; } = RuntimeKind.Local;

    /// <summary>The cluster settings, with <see cref="RuntimeKind.Slurm"/>.</summary>
    public Kiln.Runtime.Slurm.SlurmOptions? Slurm { get; init; }

    /// <summary>The engine profiles deployments may choose (built-ins, changed or extended by <c>--config</c>).</summary>
    public Kiln.Core.Engines.EngineCatalog Engines { get; init; } = Kiln.Core.Engines.EngineCatalog.Default;

    /// <summary>The deployment shapes it offers: the built-ins and its configuration file's.</summary>
    public Kiln.Core.Shapes.ShapeCatalog Shapes { get; init; } = Kiln.Core.Shapes.ShapeCatalog.Default;

    /// <summary>The replica program; <c>kiln replica</c> of this very executable by default.</summary>
    public ReplicaCommand? ReplicaCommand { get; init; }

    /// <summary>The default data directory: <c>$KILN_HOME</c>, else <c>~/.kiln</c>.</summary>
    public static string DefaultDataDir()
    {
        var home = Environment.GetEnvironmentVariable("KILN_HOME");
        return string.IsNullOrEmpty(home)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".kiln")
            : home;
    }
}

/// <summary>The runtimes <c>kiln server --runtime</c> offers.</summary>
public enum RuntimeKind
{
    /// <summary>Replicas are child processes of the server, on its machine.</summary>
    Local,
    /// <summary>Replicas are Slurm batch jobs on a cluster's nodes.</summary>
    Slurm,
}
