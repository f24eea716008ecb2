using Kiln.Core.Wire;

namespace Kiln.Core.ModelFiles;

/// <summary>How a replica gets its model file.</summary>
public enum ModelDistribution
{
    /// <summary>It opens the server's own file: replicas run on the server's machine.</summary>
    Local,

    /// <summary>It opens the file on a filesystem every node mounts at the same path.</summary>
    Shared,

    /// <summary>It downloads the file from the control plane into its node's cache.</summary>
    Download,
}

/// <summary>Wire names and the default of <see cref="ModelDistribution"/>.</summary>
public static class ModelDistributions
{
    private static readonly WireTable<ModelDistribution> Table = new(
        (ModelDistribution.Local, "local"),
        (ModelDistribution.Shared, "shared"),
        (ModelDistribution.Download, "download"));

    /// <summary>Every name, in declaration order.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Table.Names];

    /// <summary>The name, e.g. "download".</summary>
    public static string ToWireName(this ModelDistribution d) => Table.Name(d);

    /// <summary>Parses a name (exact).</summary>
    public static bool TryParse(string? name, out ModelDistribution d) => Table.TryParse(name, out d);

    /// <summary>
    /// The way in force: the one asked for; else shared when a shared model path is configured;
    /// else download for a runtime whose replicas run on other machines, and local otherwise.
    /// </summary>
    public static ModelDistribution Resolve(ModelDistribution? asked, bool hasSharePath, bool remoteRuntime) =>
        asked ?? (hasSharePath ? ModelDistribution.Shared : remoteRuntime ? ModelDistribution.Download : ModelDistribution.Local);
}
