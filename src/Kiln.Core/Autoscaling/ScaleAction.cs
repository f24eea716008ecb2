namespace Kiln.Core.Autoscaling;

/// <summary>What a decision does to the desired replica count.</summary>
public enum ScaleAction
{
    /// <summary>Keep the current count.</summary>
    Hold,
    /// <summary>More replicas, because load stayed above target for the scale-up window.</summary>
    ScaleUp,
    /// <summary>Fewer replicas, because load stayed below target for the scale-down window.</summary>
    ScaleDown,
    /// <summary>Zero replicas, because no request arrived for the scale-to-zero window.</summary>
    ScaleToZero,
    /// <summary>From zero to the first replica, because requests are waiting.</summary>
    Wake,
    /// <summary>Into [min, max] after the bounds changed.</summary>
    Clamp,
    /// <summary>To the count a user asked for (<c>:scale</c>), which then holds for a window.</summary>
    Requested,
}
