using System.Reflection;
using Xunit.Sdk;

namespace Kiln.ControlPlane.Tests.WebConsole;

/// <summary>
/// The browsers the console's tests drive: Debian's Chromium (over the DevTools protocol) and
/// Debian's Firefox ESR (over WebDriver BiDi), both installed packages, never downloaded browsers.
/// </summary>
public static class Browsers
{
    public const string Chromium = "chromium";
    public const string Firefox = "firefox";

    public static readonly string? ChromiumPath = Find("chromium", "chromium-browser");
    public static readonly string? FirefoxPath = Find("firefox-esr", "firefox");

    public const string MissingMessage =
        "no browser found: install Debian's chromium and firefox-esr (apt-get install -y chromium firefox-esr) for the console's browser tests";

    /// <summary>The installed browsers by name; a missing one's tests are not generated.</summary>
    public static IEnumerable<string> Installed()
    {
        if (ChromiumPath is not null) yield return Chromium;
        if (FirefoxPath is not null) yield return Firefox;
    }

    private static string? Find(params string[] names)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Append("/usr/bin"))
        {
            foreach (var name in names)
            {
                var candidate = Path.Combine(dir, name);
                if (File.Exists(candidate)) return candidate;
            }
        }
        return null;
    }

    /// <summary>
    /// An ID for what a test creates, distinct per browser: both browsers run the same test against
    /// one server, and deleted deployments keep their names for undelete.
    /// </summary>
    public static string Id(string browser, string id) => browser == Chromium ? id : $"{id}-{browser}";
}

/// <summary>A test that drives the console in each installed browser against a real replica; skipped when none is.</summary>
public sealed class BrowserTheoryAttribute : TheoryAttribute
{
    public BrowserTheoryAttribute()
    {
        if (!Browsers.Installed().Any()) Skip = Browsers.MissingMessage;
        else if (SharedFiles.Root is null) Skip = SharedFiles.MissingMessage;
    }
}

/// <summary>One row per installed browser, less those the test names as ones Playwright cannot drive through it.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class EachBrowserAttribute : DataAttribute
{
    public string[] Except { get; set; } = [];

    public override IEnumerable<object[]> GetData(MethodInfo testMethod) =>
        Browsers.Installed().Except(Except).Select(b => new object[] { b });
}
