using System.Reflection;

namespace Kiln.Runtime.Local;

/// <summary>The program that runs a replica: <c>kiln replica ...</c> by default.</summary>
/// <param name="FileName">The executable.</param>
/// <param name="PrefixArguments">Arguments before <c>replica</c>, e.g. the assembly for <c>dotnet</c>.</param>
public sealed record ReplicaCommand(string FileName, IReadOnlyList<string> PrefixArguments)
{
    /// <summary>
    /// The running <c>kiln</c> executable itself; when it runs under <c>dotnet</c> (a framework-
    /// dependent launch), <c>dotnet &lt;entry assembly&gt;</c>.
    /// </summary>
    public static ReplicaCommand ForCurrentProcess()
    {
        var path = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell the path of the running executable");
        var name = Path.GetFileNameWithoutExtension(path);
        if (string.Equals(name, "dotnet", StringComparison.OrdinalIgnoreCase))
        {
            var entry = Assembly.GetEntryAssembly()?.Location;
            if (string.IsNullOrEmpty(entry))
            {
                throw new InvalidOperationException("running under dotnet without an entry assembly path");
            }
            return new(path, [entry]);
        }
        return new(path, []);
    }

    /// <summary>An executable, or a <c>.dll</c> run with the current <c>dotnet</c> host.</summary>
    public static ReplicaCommand FromPath(string path)
    {
        var full = Path.GetFullPath(path);
        if (!full.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
        {
            return new(full, []);
        }
        var host = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        return new(host, [full]);
    }
}
