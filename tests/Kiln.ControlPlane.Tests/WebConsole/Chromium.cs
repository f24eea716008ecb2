namespace Kiln.ControlPlane.Tests.WebConsole;

/// <summary>Debian's Chromium, which Playwright drives instead of a browser of its own.</summary>
public static class Chromium
{
    public static readonly string? Path = Find();

    public const string MissingMessage = "chromium not found: install Debian's chromium (apt-get install -y chromium) for the console's browser tests";

    private static string? Find()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Append("/usr/bin"))
        {
            foreach (var name in (string[])["chromium", "chromium-browser"])
            {
                var candidate = System.IO.Path.Combine(dir, name);
                if (File.Exists(candidate)) return candidate;
            }
        }
        return null;
    }
}

/// <summary>A fact that drives the console in Chromium against a real replica; skipped when either is missing.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (Chromium.Path is null) Skip = Chromium.MissingMessage;
        else if (SharedFiles.Root is null) Skip = SharedFiles.MissingMessage;
    }
}
