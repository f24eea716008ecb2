using System.Diagnostics;
using System.Text;

namespace Kiln.Bench;

/// <summary>Settings of <c>kiln bench gateway</c>.</summary>
public sealed record GatewayBenchOptions
{
    /// <summary>The kiln executable, to start a server (when <see cref="Server"/> is null).</summary>
    public required string Kiln { get; init; }
    /// <summary>GGUF model to deploy on a started server.</summary>
    public string? ModelPath { get; init; }
    /// <summary>A running server instead, with <see cref="ApiKey"/> and <see cref="Deployment"/>.</summary>
    public Uri? Server { get; init; }
    public string? ApiKey { get; init; }
    /// <summary><c>accounts/A/deployments/D</c> on a running server.</summary>
    public string? Deployment { get; init; }
    /// <summary>Requests per path (direct and gateway) in the latency figure.</summary>
    public int Requests { get; init; } = 500;
    public int Concurrency { get; init; } = 64;
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// The gateway's cost: latency of a small non-streaming completion through the gateway against the
/// same request sent straight to the replica (interleaved, one at a time, same run), and the
/// requests per second that many concurrent clients get through the gateway (and, for reference,
/// straight to the replica).
/// </summary>
public static class GatewayBench
{
    public static async Task<int> RunAsync(GatewayBenchOptions o, TextWriter output)
    {
        await using var server = o.Server is { } uri
            ? BenchServer.Attach(uri, o.ApiKey ?? throw new ArgumentException("--api-key is required with --server"))
            : await BenchServer.StartAsync(o.Kiln, "--cpu-slots", "2");
        var deployment = o.Deployment ?? "accounts/default/deployments/bench";
        if (server.Started)
        {
            await server.ImportAsync("bench", o.ModelPath ?? throw new ArgumentException("--model is required without --server"));
            await server.CreateDeploymentAsync("bench", new { baseModel = "accounts/default/models/bench", minReplicaCount = 1, maxReplicaCount = 1 });
        }
        var ready = await server.WaitAsync(deployment, d => BenchServer.ReadyPorts(d).Count > 0, TimeSpan.FromMinutes(5), "a READY replica");
        var port = BenchServer.ReadyPorts(ready)[0];
        var model = ready.GetProperty("baseModel").GetString()!;
        await Task.Delay(1500); // the gateway's replica directory refreshes every second

        var body = $$"""{"model":"{{deployment}}","prompt":"Hi","max_tokens":1,"temperature":0}""";
        using var direct = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = int.MaxValue }) { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        async Task<double> TimeAsync(HttpClient http, string path)
        {
            var start = Stopwatch.GetTimestamp();
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            using var r = await http.PostAsync(path, content);
            await r.Content.ReadAsByteArrayAsync();
            if (!r.IsSuccessStatusCode) throw new InvalidOperationException($"{path}: HTTP {(int)r.StatusCode}");
            return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        output.WriteLine($"kiln bench gateway: {(server.Started ? $"started server {server.BaseUri}" : $"server {server.BaseUri}")}, deployment {deployment} ({model}), replica port {port}");
        output.WriteLine($"  request: completions, prompt \"Hi\", max_tokens 1, non-streaming; {o.Requests} per path, interleaved; {Environment.ProcessorCount} cores");
        for (var i = 0; i < 50; i++)
        {
            await TimeAsync(direct, "v1/completions");
            await TimeAsync(server.Http, "v1/completions");
        }
        var viaReplica = new List<double>();
        var viaGateway = new List<double>();
        for (var i = 0; i < o.Requests; i++)
        {
            viaReplica.Add(await TimeAsync(direct, "v1/completions"));
            viaGateway.Add(await TimeAsync(server.Http, "v1/completions"));
        }
        var (d50, d99) = (Percentile(viaReplica, 50), Percentile(viaReplica, 99));
        var (g50, g99) = (Percentile(viaGateway, 50), Percentile(viaGateway, 99));
        output.WriteLine($"  latency direct   p50 {d50:F3} ms  p99 {d99:F3} ms");
        output.WriteLine($"  latency gateway  p50 {g50:F3} ms  p99 {g99:F3} ms");
        output.WriteLine($"  gateway overhead p50 {g50 - d50:F3} ms  p99 {g99 - d99:F3} ms");

        // The server's and the replica's CPU time per request: steadier than requests/s on a shared machine.
        var serverPid = server.ProcessId;
        var replicaPid = serverPid is { } sp ? ProcessCpu.ChildWith(sp, port.ToString(System.Globalization.CultureInfo.InvariantCulture)) : null;
        var (gatewayRate, gatewayCpu) = await ThroughputAsync(server.Http, body, o.Concurrency, o.Duration, serverPid, replicaPid);
        var (directRate, directCpu) = await ThroughputAsync(direct, body, o.Concurrency, o.Duration, serverPid, replicaPid);
        output.WriteLine($"  throughput at {o.Concurrency} clients for {o.Duration.TotalSeconds:0}s: gateway {gatewayRate:F0} req/s, direct {directRate:F0} req/s ({gatewayRate / directRate:F2} of direct)");
        if (gatewayCpu.Server is { } gs && gatewayCpu.Replica is { } gr && directCpu.Replica is { } dr)
        {
            output.WriteLine($"  CPU per request through the gateway: server {gs:F0} us, replica {gr:F0} us; direct: replica {dr:F0} us");
        }
        return 0;
    }

    private static async Task<(double Rate, (double? Server, double? Replica) CpuUs)> ThroughputAsync(
        HttpClient http, string body, int clients, TimeSpan duration, int? serverPid, int? replicaPid)
    {
        var serverBefore = serverPid is { } s ? ProcessCpu.Of(s) : null;
        var replicaBefore = replicaPid is { } r0 ? ProcessCpu.Of(r0) : null;
        long done = 0, failed = 0;
        var stop = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            while (stop.Elapsed < duration)
            {
                using var content = new StringContent(body, Encoding.UTF8, "application/json");
                using var r = await http.PostAsync("v1/completions", content);
                await r.Content.ReadAsByteArrayAsync();
                Interlocked.Increment(ref r.IsSuccessStatusCode ? ref done : ref failed);
            }
        })));
        var seconds = stop.Elapsed.TotalSeconds;
        if (failed > 0) Console.Error.WriteLine($"  ({failed} requests failed, e.g. 429 from a full replica queue)");
        double? PerRequest(int? pid, TimeSpan? before) =>
            pid is { } p && before is { } b && ProcessCpu.Of(p) is { } after && done > 0 ? (after - b).TotalMicroseconds / done : null;
        return (done / seconds, (PerRequest(serverPid, serverBefore), PerRequest(replicaPid, replicaBefore)));
    }

    internal static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToList();
        var rank = (int)Math.Ceiling(p / 100 * sorted.Count) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Count - 1)];
    }
}
