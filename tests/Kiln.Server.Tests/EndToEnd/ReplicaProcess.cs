using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Kiln.Server.Tests.EndToEnd;

/// <summary>A real <c>kiln replica</c> process on a free loopback port, stopped on dispose.</summary>
public sealed class ReplicaProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private ReplicaProcess(Process process, int port)
    {
        _process = process;
        Port = port;
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
    }

    public int Port { get; }
    public int Pid => _process.Id;
    public Uri BaseAddress { get; }
    public string Log
    {
        get
        {
            lock (_log) return _log.ToString();
        }
    }

    public static async Task<ReplicaProcess> StartAsync(string model, params string[] extraArgs)
    {
        var port = FreePort();
        var psi = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in (string[])[KilnDll(), "replica", "--model", model, "--port", port.ToString(), .. extraArgs])
            psi.ArgumentList.Add(a);
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start kiln");
        var replica = new ReplicaProcess(process, port);
        process.OutputDataReceived += (_, e) => replica.Append(e.Data);
        process.ErrorDataReceived += (_, e) => replica.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                await process.WaitForExitAsync(); // drains the redirected output
                throw new InvalidOperationException($"replica exited with {process.ExitCode}: {replica.Log}");
            }
            try
            {
                var r = await http.GetAsync(new Uri(replica.BaseAddress, "/health"));
                if (r.StatusCode == HttpStatusCode.OK) return replica;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(100);
        }
        await replica.DisposeAsync();
        throw new TimeoutException($"replica did not become healthy: {replica.Log}");
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_log) _log.AppendLine(line);
    }

    public static string KilnDll() => Path.Combine(AppContext.BaseDirectory, "kiln.dll");

    public static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
