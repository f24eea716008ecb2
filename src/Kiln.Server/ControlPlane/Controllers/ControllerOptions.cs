namespace Kiln.Server.ControlPlane.Controllers;

/// <summary>Timing of the autoscaler and the reaper, shortened by tests.</summary>
public sealed record ControllerOptions
{
    /// <summary>Time between autoscaler passes (each scrapes every READY replica once).</summary>
    public TimeSpan AutoscaleInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the autoscaler reads the wakes other server instances asked for through the store.</summary>
    public TimeSpan WakePollInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Time between reaper passes (auto-delete and spend limits).</summary>
    public TimeSpan ReapInterval { get; init; } = TimeSpan.FromSeconds(30);
}
