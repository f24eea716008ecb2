using System.Diagnostics;
using System.Text;

namespace Kiln.ControlPlane.Tests;

/// <summary>
/// A real <c>kiln server</c> process on a free port with its own temporary data directory, with
/// short reconcile timings. Disposing kills the server and every replica process it left.
/// </summary>
public sealed class KilnServer : IDisposable
{
    private readonly string[] _extraArgs;
    private readonly StringBuilder _output = new();
    private Process? _process;

    private readonly bool _fakeReplica;
    private readonly IReadOnlyDictionary<string, string> _environment;

    // Flags that name the inventory; without any, a server offers 8 CPU slots whatever the machine holds.
    private static readonly string[] InventoryFlags = ["--cpu-slots", "--accelerators", "--accelerators-file"];

    private KilnServer(string dataDir, int port, bool fakeReplica, string[] extraArgs, IReadOnlyDictionary<string, string>? environment = null)
    {
        DataDir = dataDir;
        Port = port;
        _fakeReplica = fakeReplica;
        _extraArgs = extraArgs;
        _environment = environment ?? new Dictionary<string, string>();
    }

    public string DataDir { get; }
    public int Port { get; }
    public Uri BaseUri => new($"http://127.0.0.1:{Port}/");
    public int Pid => _process?.Id ?? 0;
    public string AdminKeyFile => Path.Combine(DataDir, "admin-api-key");
    public string AdminKey => File.ReadAllText(AdminKeyFile).Trim();

    /// <summary>Everything the current server process printed.</summary>
    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    private static string Bin(string name) => Path.Combine(AppContext.BaseDirectory, name);

    /// <summary>Stands for the data directory in extra arguments (e.g. <c>--model-cache {data}/cache</c>), so what replicas write there goes with it.</summary>
    public const string DataDirPlaceholder = "{data}";

    /// <summary>Starts a server on a fresh data directory; its replicas run the real <c>kiln replica</c>.</summary>
    public static Task<KilnServer> StartAsync(params string[] extraArgs) => StartAsync(fakeReplica: false, extraArgs);

    /// <summary>Starts a server whose process (and so its replicas) gets <paramref name="environment"/> on top of the test's own.</summary>
    public static Task<KilnServer> StartAsync(IReadOnlyDictionary<string, string> environment, params string[] extraArgs) =>
        StartAsync(fakeReplica: false, extraArgs, environment);

    /// <summary>
    /// Starts a server whose replicas run the stand-in replica, which (unlike the real one) exits
    /// with a message on stderr when its model cannot load.
    /// </summary>
    public static Task<KilnServer> StartWithFakeReplicaAsync(params string[] extraArgs) => StartAsync(fakeReplica: true, extraArgs);

    private static async Task<KilnServer> StartAsync(bool fakeReplica, string[] extraArgs, IReadOnlyDictionary<string, string>? environment = null)
    {
        var server = new KilnServer(NewDataDir(), FreePort.Next(), fakeReplica, extraArgs, environment);
        await server.RestartAsync();
        return server;
    }

    private static string NewDataDir() => Path.Combine(Path.GetTempPath(), "kiln-cp-tests", Guid.NewGuid().ToString("N")[..12]);

    /// <summary>
    /// Starts another server instance beside <paramref name="first"/>: its own port, the same data
    /// directory (the model files, and the SQLite store unless <paramref name="extraArgs"/> name another).
    /// </summary>
    public static async Task<KilnServer> StartBesideAsync(KilnServer first, params string[] extraArgs)
    {
        var server = new KilnServer(first.DataDir, FreePort.Next(), first._fakeReplica, extraArgs);
        await server.RestartAsync();
        return server;
    }

    /// <summary>Starts the server process (again) on the same data directory and port.</summary>
    public async Task RestartAsync()
    {
        lock (_output) _output.Clear();
        var psi = new ProcessStartInfo(Bin("kiln"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in _environment)
        {
            psi.Environment[name] = value;
        }
        foreach (var a in new[]
                 {
                     "server", "--port", Port.ToString(), "--data-dir", DataDir, "--restart-backoff", "200ms", "--drain-timeout", "5s",
                 }.Concat(_extraArgs.Contains("--reconcile-interval") ? [] : ["--reconcile-interval", "200ms"])
                     // The gateway's warm-up costs each start about 3 s of CPU, which hundreds of starts on
                     // two cores cannot spare; its own tests turn it on.
                     .Concat(_extraArgs.Contains("--gateway-warmup") ? [] : ["--gateway-warmup", "0"]).Concat(_fakeReplica ? ["--replica-command", Bin("Kiln.FakeReplica")] : []).Concat(_extraArgs.Any(InventoryFlags.Contains) ? [] : ["--accelerators", "CPU:8"])
                     .Concat(_extraArgs.Select(a => a.Replace(DataDirPlaceholder, DataDir, StringComparison.Ordinal))))
        {
            psi.ArgumentList.Add(a);
        }
        foreach (var (k, v) in _environment)
        {
            psi.Environment[k] = v;
        }
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        _process = p;
        await Wait.UntilAsync(() => Output.Contains("listening on") || p.HasExited, TimeSpan.FromSeconds(30), "server start");
        if (p.HasExited)
        {
            // The parameterless wait also waits for the redirected output to be read to its end.
            p.WaitForExit();
            throw new InvalidOperationException($"kiln server exited with {p.ExitCode}:\n{Output}");
        }
    }

    /// <summary>kill -9: no chance to stop replicas.</summary>
    public void Crash()
    {
        _process?.Kill(entireProcessTree: false);
        _process?.WaitForExit();
    }

    /// <summary>SIGTERM and wait: a clean shutdown.</summary>
    public async Task StopAsync()
    {
        if (_process is null || _process.HasExited) return;
        Process.Start("kill", ["-TERM", _process.Id.ToString()])!.WaitForExit();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(cts.Token);
    }

    /// <summary>Every live process that works on this server's data (replicas name their model file in it).</summary>
    public IReadOnlyList<int> ReplicaProcesses() => Processes.WithArgumentContaining(DataDir).Where(p => p != Pid).ToList();

    public void Dispose()
    {
        try { Crash(); } catch (InvalidOperationException) { }
        foreach (var pid in ReplicaProcesses())
        {
            Processes.Kill(pid);
        }
        _process?.Dispose();
        try { Directory.Delete(DataDir, recursive: true); } catch (IOException) { }
    }
}
