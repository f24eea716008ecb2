namespace Kiln.Cli;

/// <summary>
/// What kilnctl takes from its surroundings: environment variables, the HTTP transport, whether
/// stderr is a terminal, the poll interval of --wait. Tests substitute each of them.
/// </summary>
public sealed class CliHost
{
    public Func<string, string?> GetEnvironmentVariable { get; init; } = Environment.GetEnvironmentVariable;

    /// <summary>The transport for every request; null means a fresh default handler.</summary>
    public HttpMessageHandler? HttpHandler { get; init; }

    /// <summary>Progress bars and rewriting status lines only make sense on a terminal.</summary>
    public bool StderrIsTerminal { get; init; }

    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Where <c>import model --from URL</c> keeps the download until it is uploaded.</summary>
    public string TempDirectory { get; init; } = Path.GetTempPath();

    public static CliHost FromProcess() => new() { StderrIsTerminal = !Console.IsErrorRedirected };
}
