using System.Diagnostics;
using System.Text;

namespace Kiln.Bench;

/// <summary>Settings of <c>kiln bench coldstart</c>.</summary>
public sealed record ColdStartBenchOptions
{
    public required string Kiln { get; init; }
    public required IReadOnlyList<string> ModelPaths { get; init; }
    public int Repetitions { get; init; } = 3;
}

/// <summary>
/// Time from a streaming request to a deployment at zero replicas until its first token arrives:
/// the gateway wakes the deployment, the reconciler starts a replica, the model loads, and the held
/// request is served. Each model gets its own deployment that scales back to zero between runs.
/// </summary>
public static class ColdStartBench
{
    public static async Task<int> RunAsync(ColdStartBenchOptions o, TextWriter output)
    {
        await using var server = await BenchServer.StartAsync(o.Kiln, "--cpu-slots", "2", "--autoscale-interval", "250ms", "--reconcile-interval", "1s");
        output.WriteLine($"kiln bench coldstart: server {server.BaseUri} (reconcile interval 1s, autoscale interval 250ms), {o.Repetitions} runs per model, {Environment.ProcessorCount} cores");
        var i = 0;
        foreach (var path in o.ModelPaths)
        {
            var id = $"m{i++}";
            await server.ImportAsync(id, path);
            await server.CreateDeploymentAsync(id, new
            {
                baseModel = $"accounts/default/models/{id}",
                minReplicaCount = 0,
                maxReplicaCount = 1,
                autoscalingPolicy = new { scaleToZeroWindow = "1s" },
            });
            var name = $"accounts/default/deployments/{id}";
            var times = new List<double>();
            for (var run = 0; run < o.Repetitions; run++)
            {
                await server.WaitAsync(name, d => d.GetProperty("desiredReplicaCount").GetInt32() == 0 && d.GetProperty("replicas").GetArrayLength() == 0,
                    TimeSpan.FromMinutes(2), "zero replicas");
                times.Add(await FirstTokenAsync(server.Http, name));
            }
            var size = new FileInfo(path).Length / 1e6;
            output.WriteLine($"  {Path.GetFileName(path)} ({size:F1} MB): first token after {string.Join(", ", times.Select(t => $"{t:F0}"))} ms; median {GatewayBench.Percentile(times, 50):F0} ms");
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
}
