namespace Kiln.Server.ControlPlane.Addons;

/// <summary>Limits on addons.</summary>
public sealed record AddonOptions
{
    /// <summary>The default of <see cref="MaxPerDeployment"/>.</summary>
    public const int DefaultMaxPerDeployment = 16;

    /// <summary>
    /// Addons one deployment may serve at once: each takes memory on every replica and a share of
    /// every batch's adapter work.
    /// </summary>
    public int MaxPerDeployment { get; init; } = DefaultMaxPerDeployment;
}
