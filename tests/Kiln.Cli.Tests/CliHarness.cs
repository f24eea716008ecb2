using Kiln.Cli;

namespace Kiln.Cli.Tests;

internal sealed record CliResult(int ExitCode, string Stdout, string Stderr);

/// <summary>Runs kilnctl in-process against a <see cref="FakeKilnServer"/> with a private config file.</summary>
internal sealed class CliHarness : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"kilnctl-test-{Guid.NewGuid():N}");

    public CliHarness(string? apiKey = "test-key")
    {
        System.IO.Directory.CreateDirectory(_directory);
        Environment["KILN_CONFIG"] = ConfigPath;
        if (apiKey is not null)
            Environment["KILN_API_KEY"] = apiKey;
    }

    public FakeKilnServer Server { get; } = new();
    public Dictionary<string, string?> Environment { get; } = [];
    public string ConfigPath => Path.Combine(_directory, "kiln", "config.json");
    public string TempDirectory => _directory;
    public bool Terminal { get; set; }

    public async Task<CliResult> RunAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var host = new CliHost
        {
            GetEnvironmentVariable = name => Environment.GetValueOrDefault(name),
            HttpHandler = Server,
            StderrIsTerminal = Terminal,
            PollInterval = TimeSpan.FromMilliseconds(5),
            TempDirectory = _directory,
        };
        var code = await Program.RunAsync(args, stdout, stderr, host);
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }

    public void Dispose()
    {
        Server.Dispose();
        try
        {
            System.IO.Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp directory does no harm.
        }
    }
}
