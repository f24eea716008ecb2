using Kiln.Runtime.Local;

namespace Kiln.Server.ControlPlane;

/// <summary>How <c>kiln server</c> runs.</summary>
public sealed record ServerOptions
{
    /// <summary>Address to bind (loopback by default: the API is reachable from this machine only).</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>Port to bind.</summary>
    public int Port { get; init; } = 8420;

    /// <summary>Where the store, model files, replica logs and the admin key live.</summary>
    public required string DataDir { get; init; }

    /// <summary>Force a CPU inventory of this many slots instead of detecting it.</summary>
    public int? CpuSlots { get; init; }

    /// <summary>Inference gateway behaviour.</summary>
    public Kiln.Server.Gateway.GatewayOptions Gateway { get; init; } = new();

    /// <summary>Autoscaler and reaper timing.</summary>
    public Kiln.Server.ControlPlane.Controllers.ControllerOptions Controllers { get; init; } = new();

    /// <summary>Prices per accelerator-hour.</summary>
    public Kiln.Core.Billing.PriceTable Prices { get; init; } = Kiln.Core.Billing.PriceTable.Default;

    /// <summary>Reconciler timing.</summary>
    public ReconcilerOptions Reconciler { get; init; } = new();

    /// <summary>Limits on addons.</summary>
    public Addons.AddonOptions Addons { get; init; } = new();

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

/// <summary>Timing of the reconciler, shortened by tests.</summary>
public sealed record ReconcilerOptions
{
    /// <summary>Time between passes when nothing wakes the loop earlier.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a stopping replica may drain before it is killed.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a replica may take to become ready before it counts as failed.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Delay before the first restart of a failed replica; doubles with each further failure.</summary>
    public TimeSpan RestartBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest delay between restarts.</summary>
    public TimeSpan MaxRestartBackoff { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Replica starts that may fail in a row (never ready) before the deployment is FAILED.</summary>
    public int MaxReplicaFailures { get; init; } = Kiln.Core.Deployments.DeploymentLifecycle.DefaultMaxReplicaFailures;
}
