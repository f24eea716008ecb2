namespace Kiln.Runtime;

/// <summary>An engine's command line as events and logs show it.</summary>
public static class EngineCommand
{
    /// <summary>The arguments joined with spaces, each quoted when it holds a space or a quote, so it can be pasted into a shell.</summary>
    public static string Describe(IEnumerable<string> argv) =>
        string.Join(' ', argv.Select(a => a.Length > 0 && a.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=,@+{}%".Contains(c)) ? a : "'" + a.Replace("'", "'\\''") + "'"));
}
