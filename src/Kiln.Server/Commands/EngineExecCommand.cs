using System.CommandLine;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Kiln.Core.Engines;
using Kiln.Server.Replica;

namespace Kiln.Server.Commands;

/// <summary>
/// <c>kiln engine-exec</c>: runs another engine in a cluster job. The control plane cannot know which
/// ports are free on a node it has not seen, and engines (unlike <c>kiln replica --port 0</c>) cannot
/// report the port they bind; so this picks a free port on the node, puts it where the command says
/// <c>{port}</c>, writes <c>host:port</c> to the endpoint file and runs the engine in the foreground,
/// passing on the scheduler's signals and returning the engine's exit code.
/// </summary>
public static class EngineExecCommand
{
    public const string Verb = "engine-exec";

    public static Command Create()
    {
        var endpointFile = new Option<string>("--endpoint-file") { Description = "File to write host:port into before the engine starts", Required = true };
        var host = new Option<string>("--host") { Description = "Address the engine binds (what {host} in its command was filled with)", DefaultValueFactory = _ => "0.0.0.0" };
        var command = new Argument<string[]>("COMMAND") { Description = "The engine's command line; every {port} in it is replaced", Arity = ArgumentArity.OneOrMore };
        var cmd = new Command(Verb, "Run an engine in a cluster job on a free port of the node, reporting it through an endpoint file") { endpointFile, host, command };
        cmd.Validators.Add(r =>
        {
            if (r.GetValue(endpointFile) is { } file && EndpointFileProblem(file) is { } fileProblem) r.AddError($"--endpoint-file: {fileProblem}");
            if (r.GetValue(host) is { } h && Uri.CheckHostName(h.Trim('[', ']')) == UriHostNameType.Unknown)
                r.AddError($"--host: must be a host name or an IP address, got '{h}'");
        });
        cmd.SetAction(async (r, ct) =>
        {
            var port = FreePort();
            var argv = r.GetValue(command)!.Select(a => a.Replace("{" + CommandTemplate.Port + "}", port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)).ToArray();
            var psi = new ProcessStartInfo(argv[0]) { UseShellExecute = false };
            foreach (var a in argv.Skip(1))
            {
                psi.ArgumentList.Add(a);
            }
            Process child;
            try
            {
                child = Process.Start(psi) ?? throw new InvalidOperationException("the engine did not start");
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                Console.Error.WriteLine($"kiln {Verb}: cannot run {argv[0]}: {e.Message}");
                return 127;
            }
            Console.Error.WriteLine($"kiln {Verb}: engine process {child.Id} on port {port}");
            try
            {
                EndpointFile.Write(r.GetValue(endpointFile)!, new Uri($"http://{Bracketed(r.GetValue(host)!)}:{port}/"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Nobody could find the engine: stop it rather than leave it running unreported.
                Console.Error.WriteLine($"kiln {Verb}: cannot write the endpoint file: {e.Message}");
                child.Kill(entireProcessTree: true);
                return 1;
            }
            // scancel and a drain send SIGTERM to the job's process; the engine drains on it.
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; Signal(child, "TERM"); });
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; Signal(child, "INT"); });
            await child.WaitForExitAsync(CancellationToken.None);
            return child.ExitCode;
        });
        return cmd;
    }

    /// <summary>Why the endpoint file cannot be written where it is named, or null.</summary>
    internal static string? EndpointFileProblem(string file)
    {
        if (!Path.IsPathFullyQualified(file)) return $"must be an absolute path, got '{file}'";
        var dir = Path.GetDirectoryName(file);
        if (dir is null || Path.GetFileName(file).Length == 0) return $"must name a file, got '{file}'";
        return Directory.Exists(dir) ? null : $"its directory {dir} does not exist on this node";
    }

    private static int FreePort()
    {
        // Bound and released at once: the engine binds it a moment later (the usual race of port 0 handed on).
        using var listener = new TcpListener(IPAddress.Any, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Bracketed(string host) => host.Contains(':') && !host.StartsWith('[') ? $"[{host}]" : host;

    private static void Signal(Process child, string signal)
    {
        try
        {
            using var kill = Process.Start("kill", [$"-{signal}", child.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            kill?.WaitForExit();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No kill(1): the scheduler's SIGKILL still ends the job's processes.
        }
    }
}
