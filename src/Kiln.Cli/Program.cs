using System.CommandLine;
using System.CommandLine.Help;
using Kiln.Cli.Api;
using Kiln.Cli.Commands;

namespace Kiln.Cli;

public static class Program
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int UsageError = 2;

    public static Task<int> Main(string[] args) =>
        RunAsync(args, Console.Out, Console.Error, CliHost.FromProcess());

    /// <summary>
    /// Runs kilnctl in-process. Exit codes: 0 success, 1 server/API error or failed goal,
    /// 2 usage error (bad flags, no API key).
    /// </summary>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr,
        CliHost? host = null, CancellationToken ct = default)
    {
        host ??= CliHost.FromProcess();
        var root = new CliApp(stdout, stderr, host).BuildRoot();
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0 && parse.Action is not HelpAction)
        {
            foreach (var error in parse.Errors)
                stderr.WriteLine($"kilnctl: {error.Message}");
            stderr.WriteLine("Run 'kilnctl --help' (or add --help to the command) for usage.");
            return UsageError;
        }

        var config = new InvocationConfiguration
        {
            Output = stdout,
            Error = stderr,
            EnableDefaultExceptionHandler = false,
        };
        try
        {
            return await parse.InvokeAsync(config, ct);
        }
        catch (UsageException e)
        {
            WriteLines(stderr, e.Message);
            return UsageError;
        }
        catch (KilnApiException e)
        {
            WriteLines(stderr, $"{e.Code}: {e.Message}");
            return Failure;
        }
        catch (Exception e) when (e is CommandFailedException or KilnConnectionException
                                      or IOException or UnauthorizedAccessException)
        {
            WriteLines(stderr, e.Message);
            return Failure;
        }
        catch (OperationCanceledException)
        {
            stderr.WriteLine("kilnctl: cancelled");
            return 130;
        }
    }

    private static void WriteLines(TextWriter stderr, string message)
    {
        foreach (var line in message.Split('\n'))
            stderr.WriteLine($"kilnctl: {line}");
        stderr.Flush();
    }
}
