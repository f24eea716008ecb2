using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Kiln.Bench;

/// <summary>Settings of <c>kiln bench coldstart</c>.</summary>
public sealed record ColdStartBenchOptions
{
    public required string Kiln { get; init; }
    public required IReadOnlyList<string> ModelPaths { get; init; }
    public int Repetitions { get; init; } = 3;
    /// <summary>Concurrent clients of each burst.</summary>
    public int BurstClients { get; init; } = 8;
    /// <summary>Tokens each burst client asks for (end-of-sequence ignored, so every client gets them all).</summary>
    public int BurstTokens { get; init; } = 64;
    /// <summary>CPU threads of the deployment's replica (its accelerator count).</summary>
    public int Threads { get; init; } = 2;
}

/// <summary>
/// Time from a streaming request to a deployment at zero replicas until its first token arrives:
/// the gateway wakes the deployment, the reconciler starts a replica, the model loads, and the held
/// request is served. Right after that first token a burst of concurrent requests runs, and once
/// more after further bursts have warmed the replica: the ratio of the two is how far from warm
/// speed a replica serves its first users after a wake. Each model gets its own deployment that
/// scales back to zero between runs. Beside the wall-clock rates it prints the replica process's CPU
/// time per burst (from /proc, where there is one): on a machine shared with other work the rates
/// of single bursts move by 2x, the CPU a burst of fixed size costs far less.
/// </summary>
public static class ColdStartBench
{
    // Bursts between the first and the measured warm ones: enough requests for per-request code to be
    // compiled optimised too; the warm figure is the median of a few, as single short bursts vary.
    private const int WarmingBursts = 4;
    private const int WarmBursts = 3;

    public static async Task<int> RunAsync(ColdStartBenchOptions o, TextWriter output)
    {
        await using var server = await BenchServer.StartAsync(o.Kiln, "--cpu-slots", o.Threads.ToString(), "--autoscale-interval", "250ms", "--reconcile-interval", "1s");
        output.WriteLine($"kiln bench coldstart: server {server.BaseUri} (reconcile interval 1s, autoscale interval 250ms), {o.Repetitions} runs per model, " +
            $"{Environment.ProcessorCount} cores, replica threads {o.Threads}; bursts of {o.BurstClients} clients x {o.BurstTokens} tokens");
        var i = 0;
        foreach (var path in o.ModelPaths)
        {
            var id = $"m{i++}";
            await server.ImportAsync(id, path);
            await server.CreateDeploymentAsync(id, new
            {
                baseModel = $"accounts/default/models/{id}",
                acceleratorType = "CPU",
                acceleratorCount = o.Threads,
                minReplicaCount = 0,
                maxReplicaCount = 1,
                autoscalingPolicy = new { scaleToZeroWindow = "1s" },
            });
            var name = $"accounts/default/deployments/{id}";
            var times = new List<double>();
            var ratios = new List<double>();
            var cpuRatios = new List<double>();
            output.WriteLine($"  {Path.GetFileName(path)} ({new FileInfo(path).Length / 1e6:F1} MB)");
            for (var run = 0; run < o.Repetitions; run++)
            {
                await server.WaitAsync(name, d => d.GetProperty("desiredReplicaCount").GetInt32() == 0 && d.GetProperty("replicas").GetArrayLength() == 0,
                    TimeSpan.FromMinutes(2), "zero replicas");
                var ttft = await FirstTokenAsync(server.Http, name);
                var replica = server.ProcessId is { } serverPid ? ProcessCpu.ChildWith(serverPid, "replica") : null;
                var (first, firstCpu) = await MeasuredBurstAsync(server.Http, name, o, replica);
                for (var w = 0; w < WarmingBursts; w++) await BurstAsync(server.Http, name, o);
                var warmRuns = new List<(double Rate, TimeSpan? Cpu)>();
                for (var w = 0; w < WarmBursts; w++) warmRuns.Add(await MeasuredBurstAsync(server.Http, name, o, replica));
                var warm = GatewayBench.Percentile([.. warmRuns.Select(r => r.Rate)], 50);
                times.Add(ttft);
                ratios.Add(first / warm);
                var cpu = "";
                if (firstCpu is { } f && warmRuns.All(r => r.Cpu is not null))
                {
                    var warmCpu = GatewayBench.Percentile([.. warmRuns.Select(r => r.Cpu!.Value.TotalMilliseconds)], 50);
                    cpuRatios.Add(warmCpu / f.TotalMilliseconds);
                    cpu = $"; replica CPU {f.TotalMilliseconds:F0} ms first, {warmCpu:F0} ms warm, warm / first {cpuRatios[^1]:F2}";
                }
                output.WriteLine($"    run {run + 1}: first token after {ttft:F0} ms; first burst {first:F0} tok/s, warm burst {warm:F0} tok/s, ratio {first / warm:F2}{cpu}");
            }
            output.WriteLine($"    median: first token {GatewayBench.Percentile(times, 50):F0} ms, first burst / warm burst {GatewayBench.Percentile(ratios, 50):F2}" +
                (cpuRatios.Count == times.Count ? $", by CPU time {GatewayBench.Percentile(cpuRatios, 50):F2}" : ""));
        }
        return 0;
    }

    private static async Task<double> FirstTokenAsync(HttpClient http, string model)
    {
        var body = $$"""{"model":"{{model}}","prompt":"Once upon a time","max_tokens":8,"temperature":0,"stream":true}""";
        var start = Stopwatch.GetTimestamp();
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        double? first = null;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (first is null && line.StartsWith("data: {", StringComparison.Ordinal)) first = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        return first ?? throw new InvalidOperationException("the stream carried no token");
    }

    /// <summary>A burst's rate and the CPU time the replica process spent on it (null without /proc or a replica to read).</summary>
    private static async Task<(double Rate, TimeSpan? Cpu)> MeasuredBurstAsync(HttpClient http, string model, ColdStartBenchOptions o, int? replica)
    {
        var before = replica is { } pid ? ProcessCpu.Threads(pid) : null;
        var rate = await BurstAsync(http, model, o);
        var after = replica is { } p ? ProcessCpu.Threads(p) : null;
        return (rate, before is not null && after is not null ? ProcessCpu.Between(before, after) : null);
    }

    /// <summary>Aggregate generated tokens/s of concurrent non-streaming completions, counted from their usage.</summary>
    private static async Task<double> BurstAsync(HttpClient http, string model, ColdStartBenchOptions o)
    {
        var start = Stopwatch.GetTimestamp();
        var tokens = await Task.WhenAll(Enumerable.Range(0, o.BurstClients).Select(async c =>
        {
            var body = new { model, prompt = $"Once upon a time, {c} children", max_tokens = o.BurstTokens, temperature = 0, ignore_eos = true };
            using var response = await http.PostAsJsonAsync("v1/completions", body);
            var text = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"HTTP {(int)response.StatusCode}: {text}");
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32();
        }));
        return tokens.Sum() / Stopwatch.GetElapsedTime(start).TotalSeconds;
    }
}
