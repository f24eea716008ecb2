namespace Kiln.ControlPlane.Tests;

/// <summary>
/// Locates the shared models: <c>KILN_SHARED</c> if set, else <c>../shared</c> beside the
/// repository root. Tests that need them use <see cref="SharedFactAttribute"/> and skip with a
/// clear message when the folder is absent.
/// </summary>
public static class SharedFiles
{
    public static readonly string? Root = Find();

    public const string MissingMessage = "shared models not found: set KILN_SHARED to a folder holding models/";

    public static string Model(string file) =>
        Path.Combine(Root ?? throw new InvalidOperationException(MissingMessage), "models", file);

    private static string? Find()
    {
        var env = Environment.GetEnvironmentVariable("KILN_SHARED");
        if (!string.IsNullOrEmpty(env))
            return Directory.Exists(env) ? Path.GetFullPath(env) : null;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Kiln.sln")))
            {
                var candidate = Path.Combine(dir.FullName, "..", "shared");
                return Directory.Exists(candidate) ? Path.GetFullPath(candidate) : null;
            }
        }
        return null;
    }
}

/// <summary>A fact that needs the shared models; skipped with a clear message when they are absent.</summary>
public sealed class SharedFactAttribute : FactAttribute
{
    public SharedFactAttribute()
    {
        if (SharedFiles.Root is null) Skip = SharedFiles.MissingMessage;
    }
}
