using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Kiln.Core.Replicas;

namespace Kiln.Server.Tests.EndToEnd;

/// <summary>A real <c>kiln replica</c> process on a free loopback port, stopped on dispose.</summary>
public sealed partial class ReplicaProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private ReplicaProcess(Process process) => _process = process;

    /// <summary>The address the replica bound (it is started on port 0 and logs the real one).</summary>
    public Uri BaseAddress { get; private set; } = null!;
    public int Port => BaseAddress.Port;
    public int Pid => _process.Id;
    public string Log
    {
        get
        {
            lock (_log) return _log.ToString();
        }
    }

    /// <summary>Starts <c>kiln</c> with <paramref name="args"/>, on port 0 whatever its port says.</summary>
    public static async Task<ReplicaProcess> StartAsync(ReplicaArgs args)
    {
        var psi = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in (string[])[KilnDll(), .. (args with { Port = 0 }).Format()])
            psi.ArgumentList.Add(a);
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start kiln");
        var replica = new ReplicaProcess(process);
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
            if (ListeningOn().Match(replica.Log) is not { Success: true } bound)
            {
                await Task.Delay(100);
                continue;
            }
            replica.BaseAddress = new Uri(bound.Groups[1].Value);
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

    [GeneratedRegex(@"listening on (http://[^;\s]+)")]
    private static partial Regex ListeningOn();

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
