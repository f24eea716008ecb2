using System.Diagnostics;
using System.Net;

namespace Kiln.Bench;

/// <summary>A <c>kiln replica</c> child process on a free loopback port, ready (its <c>/health</c> answered 200) once started.</summary>
internal sealed class BenchReplica : IAsyncDisposable
{
    private const int LogLinesKept = 20;

    /// <summary>Linux's clock ticks per second for /proc CPU times (USER_HZ, 100 on every mainstream kernel).</summary>
    private readonly Process _process;
    private readonly Queue<string> _lastLines;

    private BenchReplica(Process process, Queue<string> lastLines, Uri baseUri)
    {
        _process = process;
        _lastLines = lastLines;
        BaseUri = baseUri;
        Http = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = int.MaxValue })
        {
            BaseAddress = baseUri,
            Timeout = TimeSpan.FromMinutes(10),
        };
    }

    public Uri BaseUri { get; }
    public HttpClient Http { get; }

    /// <summary>CPU time the replica process has used so far (all its threads).</summary>
    public TimeSpan CpuTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    /// <summary>Starts <paramref name="kiln"/> with <paramref name="argumentsForPort"/> of a free port and waits for the model to load.</summary>
    public static async Task<BenchReplica> StartAsync(string kiln, Func<int, IReadOnlyList<string>> argumentsForPort, TimeSpan timeout)
    {
        var port = ChildProcess.FreeLoopbackPort();
        var lastLines = new Queue<string>();
        var process = ChildProcess.Start(kiln, argumentsForPort(port), line =>
        {
            lock (lastLines)
            {
                lastLines.Enqueue(line);
                if (lastLines.Count > LogLinesKept) lastLines.Dequeue();
            }
        });
        var replica = new BenchReplica(process, lastLines, new Uri($"http://127.0.0.1:{port}/"));
        try
        {
            await replica.WaitUntilReadyAsync(timeout);
            return replica;
        }
        catch
        {
            await replica.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// CPU time of the replica's threads other than the engine's (<c>kiln-scheduler</c>,
    /// <c>kiln-worker-N</c>): what serving HTTP costs beside the model, which the machine's other load
    /// does not skew as it does wall-clock rates. Null where /proc is missing; exited threads drop out.
    /// </summary>
    public TimeSpan? NonEngineCpuTime() => ProcessCpu.OfThreads(_process.Id,
        comm => !comm.StartsWith("kiln-scheduler", StringComparison.Ordinal) && !comm.StartsWith("kiln-worker", StringComparison.Ordinal));

    private async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited) throw new InvalidOperationException($"kiln replica exited with {_process.ExitCode}:\n{Log()}");
            try
            {
                using var r = await Http.GetAsync("health");
                if (r.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"kiln replica was not ready within {timeout.TotalSeconds:0} s:\n{Log()}");
    }

    private string Log()
    {
        lock (_lastLines) return string.Join('\n', _lastLines);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await ChildProcess.StopAsync(_process, TimeSpan.FromSeconds(20));
        _process.Dispose();
    }
}
