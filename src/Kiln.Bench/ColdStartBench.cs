using System.Diagnostics;
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
    /// <summary>Bursts of streamed completions, so each request's first byte is its first token.</summary>
    public bool Stream { get; init; }
}

/// <summary>
/// Time from a streaming request to a deployment at zero replicas until its first token arrives:
/// the gateway wakes the deployment, the reconciler starts a replica, the model loads, and the held
/// request is served. Right after that first token a burst of concurrent requests runs, and once
/// more after further bursts have warmed the replica: the ratio of the two is how far from warm
/// speed a replica serves its first users after a wake. Each model gets its own deployment that
/// scales back to zero between runs. Beside the wall-clock rates it prints the CPU time per burst of
/// the replica process and of the server (gateway) process (from /proc, where there is one): on a
/// machine shared with other work the rates of single bursts move by 2x, the CPU a burst of fixed
/// size costs far less. It also prints when each burst's requests got their first bytes, to show
/// whether a first burst reaches the new replica at once or trickles in.
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
            var serverCpuRatios = new List<double>();
            output.WriteLine($"  {Path.GetFileName(path)} ({new FileInfo(path).Length / 1e6:F1} MB)");
            for (var run = 0; run < o.Repetitions; run++)
            {
                await server.WaitAsync(name, d => d.GetProperty("desiredReplicaCount").GetInt32() == 0 && d.GetProperty("replicas").GetArrayLength() == 0,
                    TimeSpan.FromMinutes(2), "zero replicas");
                var ttft = await FirstTokenAsync(server.Http, name);
                var replica = server.ProcessId is { } serverPid ? ProcessCpu.ChildWith(serverPid, "replica") : null;
                var first = await MeasuredBurstAsync(server.Http, name, o, replica, server.ProcessId);
                for (var w = 0; w < WarmingBursts; w++) await BurstAsync(server.Http, name, o);
                var warmRuns = new List<MeasuredBurst>();
                for (var w = 0; w < WarmBursts; w++) warmRuns.Add(await MeasuredBurstAsync(server.Http, name, o, replica, server.ProcessId));
                var warm = GatewayBench.Percentile([.. warmRuns.Select(r => r.Timing.Rate)], 50);
                var warmSpread = GatewayBench.Percentile([.. warmRuns.Select(r => r.Timing.FirstByteSpreadMs)], 50);
                times.Add(ttft);
                ratios.Add(first.Timing.Rate / warm);
                var cpu = CpuColumn("replica", first.ReplicaCpu, warmRuns.Select(r => r.ReplicaCpu), cpuRatios) +
                    CpuColumn("server", first.ServerCpu, warmRuns.Select(r => r.ServerCpu), serverCpuRatios);
                var (firstByte, lastByte) = first.Timing.FirstByteRange;
                output.WriteLine($"    run {run + 1}: first token after {ttft:F0} ms; first burst {first.Timing.Rate:F0} tok/s, warm burst {warm:F0} tok/s, ratio {first.Timing.Rate / warm:F2}{cpu}; " +
                    $"first bytes of the first burst at {firstByte:F0}-{lastByte:F0} ms (spread {lastByte - firstByte:F0} ms, warm {warmSpread:F0} ms)");
            }
            output.WriteLine($"    median: first token {GatewayBench.Percentile(times, 50):F0} ms, first burst / warm burst {GatewayBench.Percentile(ratios, 50):F2}" +
                (cpuRatios.Count == times.Count ? $", by replica CPU time {GatewayBench.Percentile(cpuRatios, 50):F2}" : "") +
                (serverCpuRatios.Count == times.Count ? $", by server CPU time {GatewayBench.Percentile(serverCpuRatios, 50):F2}" : ""));
        }
        return 0;
    }

    /// <summary>"; {who} CPU ... first, ... warm, warm / first ..." when every reading is there (and the ratio added to <paramref name="ratios"/>), else empty.</summary>
    private static string CpuColumn(string who, TimeSpan? first, IEnumerable<TimeSpan?> warm, List<double> ratios)
    {
        var warmMs = warm.ToList();
        if (first is not { } f || warmMs.Any(w => w is null)) return "";
        var median = GatewayBench.Percentile([.. warmMs.Select(w => w!.Value.TotalMilliseconds)], 50);
        ratios.Add(median / f.TotalMilliseconds);
        return $"; {who} CPU {f.TotalMilliseconds:F0} ms first, {median:F0} ms warm, warm / first {ratios[^1]:F2}";
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

    /// <summary>A burst's timing and the CPU time the replica and the server spent on it (null without /proc or a process to read).</summary>
    private sealed record MeasuredBurst(BurstTiming Timing, TimeSpan? ReplicaCpu, TimeSpan? ServerCpu);

    private static async Task<MeasuredBurst> MeasuredBurstAsync(HttpClient http, string model, ColdStartBenchOptions o, int? replica, int? server)
    {
        var replicaBefore = replica is { } r0 ? ProcessCpu.Threads(r0) : null;
        var serverBefore = server is { } s0 ? ProcessCpu.Threads(s0) : null;
        var timing = await BurstAsync(http, model, o);
        var replicaAfter = replica is { } r1 ? ProcessCpu.Threads(r1) : null;
        var serverAfter = server is { } s1 ? ProcessCpu.Threads(s1) : null;
        return new MeasuredBurst(timing, Between(replicaBefore, replicaAfter), Between(serverBefore, serverAfter));
    }

    private static TimeSpan? Between(Dictionary<string, long>? before, Dictionary<string, long>? after) =>
        before is not null && after is not null ? ProcessCpu.Between(before, after) : null;

    /// <summary>Concurrent completions; tokens counted from their usage (streamed: the usage event).</summary>
    private static async Task<BurstTiming> BurstAsync(HttpClient http, string model, ColdStartBenchOptions o)
    {
        var start = Stopwatch.GetTimestamp();
        var results = await Task.WhenAll(Enumerable.Range(0, o.BurstClients).Select(async c =>
        {
            var prompt = $"Once upon a time, {c} children";
            var body = o.Stream
                ? JsonSerializer.Serialize(new { model, prompt, max_tokens = o.BurstTokens, temperature = 0, ignore_eos = true, stream = true, stream_options = new { include_usage = true } })
                : JsonSerializer.Serialize(new { model, prompt, max_tokens = o.BurstTokens, temperature = 0, ignore_eos = true });
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            await using var stream = await response.Content.ReadAsStreamAsync();
            var text = new MemoryStream();
            var buffer = new byte[16 * 1024];
            double? firstByte = null;
            int read;
            while ((read = await stream.ReadAsync(buffer)) > 0)
            {
                firstByte ??= Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                text.Write(buffer, 0, read);
            }
            var answer = Encoding.UTF8.GetString(text.ToArray());
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"HTTP {(int)response.StatusCode}: {answer}");
            return (Tokens: CompletionTokens(answer, o.Stream), FirstByte: firstByte ?? throw new InvalidOperationException("an empty answer"));
        }));
        var rate = results.Sum(r => r.Tokens) / Stopwatch.GetElapsedTime(start).TotalSeconds;
        return new BurstTiming(rate, [.. results.Select(r => r.FirstByte)]);
    }

    /// <summary>The completion tokens of an answer's usage: the JSON's, or the streamed usage event's.</summary>
    private static int CompletionTokens(string answer, bool streamed)
    {
        var json = streamed
            ? answer.Split('\n').Where(l => l.StartsWith("data: {", StringComparison.Ordinal) && l.Contains("\"usage\":{", StringComparison.Ordinal)).Select(l => l[6..]).LastOrDefault()
                ?? throw new InvalidOperationException("the stream carried no usage")
            : answer;
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32();
    }
}
