using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Kiln.Bench;

/// <summary>What the benchmarks that start <c>kiln</c> processes share: a free port and a clean stop.</summary>
internal static class ChildProcess
{
    /// <summary>A loopback port that was free a moment ago (the OS picks it when binding port 0).</summary>
    public static int FreeLoopbackPort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>Starts <paramref name="exe"/> with its output redirected to <paramref name="onLine"/> (drained, so a chatty child never blocks).</summary>
    public static Process Start(string exe, IEnumerable<string> args, Action<string> onLine)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {exe}");
        p.OutputDataReceived += (_, e) => { if (e.Data is { } line) onLine(line); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is { } line) onLine(line); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    /// <summary>SIGTERM (so a server stops what it started), then a kill once <paramref name="grace"/> has passed.</summary>
    public static async Task StopAsync(Process p, TimeSpan grace)
    {
        if (p.HasExited) return;
        using (var kill = Process.Start("kill", ["-TERM", p.Id.ToString(CultureInfo.InvariantCulture)])) await kill.WaitForExitAsync();
        using var cts = new CancellationTokenSource(grace);
        try { await p.WaitForExitAsync(cts.Token); } catch (OperationCanceledException) { p.Kill(entireProcessTree: true); }
    }
}
