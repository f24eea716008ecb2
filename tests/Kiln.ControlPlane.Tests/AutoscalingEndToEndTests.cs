using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;

namespace Kiln.ControlPlane.Tests;

/// <summary>
/// Scale-to-zero, holding through a cold start, load-driven scale-up, idle scale-down and billing,
/// with real replicas and windows of seconds.
/// </summary>
public class AutoscalingEndToEndTests
{
    private const string Path = "/v1/accounts/default/deployments/web";
    private const string Model = "accounts/default/deployments/web";

    /// <summary>Watches a deployment: each replica's ready time and when it left, and every event.</summary>
    private sealed class Watcher : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        public readonly ConcurrentDictionary<string, (DateTimeOffset Ready, DateTimeOffset? Gone)> Replicas = new();
        public readonly ConcurrentDictionary<(string Time, string Type, string Message), byte> Events = new();

        public Watcher(Api api) => _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                var r = await api.GetAsync(Path);
                var now = DateTimeOffset.UtcNow;
                var present = new HashSet<string>();
                foreach (var x in r.Body.GetProperty("replicas").EnumerateArray())
                {
                    var id = x.GetProperty("replicaId").GetString()!;
                    present.Add(id);
                    if (x.TryGetProperty("readyTime", out var rt) && x.GetProperty("phase").GetString() is "READY" or "STOPPING")
                    {
                        Replicas.TryAdd(id, (DateTimeOffset.Parse(rt.GetString()!, System.Globalization.CultureInfo.InvariantCulture), null));
                    }
                }
                foreach (var (id, life) in Replicas)
                {
                    if (life.Gone is null && !present.Contains(id)) Replicas[id] = life with { Gone = now };
                }
                foreach (var e in r.Body.GetProperty("events").EnumerateArray())
                {
                    Events.TryAdd((e.GetProperty("time").GetString()!, e.GetProperty("type").GetString()!, e.GetProperty("message").GetString()!), 0);
                }
                try { await Task.Delay(100, _stop.Token); } catch (OperationCanceledException) { }
            }
        });

        public List<string> Messages(string type) =>
            Events.Keys.Where(e => e.Type == type).OrderBy(e => e.Time, StringComparer.Ordinal).Select(e => e.Message).ToList();

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _loop;
        }
    }

    [SharedFact]
    public async Task A_cold_burst_is_held_and_served_once_load_scales_up_idleness_scales_to_zero_and_usage_matches()
    {
        using var server = await KilnServer.StartAsync("--autoscale-interval", "250ms", "--accelerators", "NVIDIA_A100_80GB:4");
        using var api = new Api(server.BaseUri, server.AdminKey);
        using var inference = new Inference(server.BaseUri, server.AdminKey);
        await Steps.ImportAsync(api, "default", "stories", TestModels.Stories260K());
        var created = await api.PostAsync("/v1/accounts/default/deployments?deploymentId=web", new
        {
            baseModel = "accounts/default/models/stories",
            minReplicaCount = 0,
            maxReplicaCount = 2,
            acceleratorType = "NVIDIA_A100_80GB",
            autoscalingPolicy = new { scaleUpWindow = "1s", scaleDownWindow = "2s", scaleToZeroWindow = "1s", loadTargets = new Dictionary<string, double> { ["concurrent_requests"] = 2 } },
        });
        Assert.True(created.Status == HttpStatusCode.OK, created.ToString());
        await using var watcher = new Watcher(api);

        // Idle since creation: down to zero replicas.
        await Steps.WaitForAsync(api, Path, r => r.Int("desiredReplicaCount") == 0 && r.Body.GetProperty("replicas").GetArrayLength() == 0, "scale to zero");
        var longer = await api.PatchAsync(Path, new { autoscalingPolicy = new { scaleUpWindow = "1s", scaleDownWindow = "2s", scaleToZeroWindow = "5s", loadTargets = new Dictionary<string, double> { ["concurrent_requests"] = 2 } } });
        Assert.True(longer.Status == HttpStatusCode.OK, longer.ToString());
        Assert.Equal(0, longer.Int("desiredReplicaCount"));

        // A burst of streams at zero replicas: every one is held, then served exactly once.
        const int burst = 8;
        object Request(bool usage) => usage
            ? new { model = Model, prompt = "Once upon a time", max_tokens = 12, temperature = 0, stream = true, stream_options = new { include_usage = true } }
            : new { model = Model, prompt = "Once upon a time", max_tokens = 12, temperature = 0, stream = true };
        var results = await Task.WhenAll(Enumerable.Range(0, burst).Select(i => inference.StreamAsync("/inference/v1/completions", Request(usage: i % 2 == 0))));
        Assert.All(results, r =>
        {
            Assert.Equal(HttpStatusCode.OK, r.Status);
            Assert.True(r.Done, r.Raw);
            Assert.False(string.IsNullOrEmpty(r.Text), r.Raw);
        });
        Assert.Single(results.Select(r => r.Text).Distinct());
        Assert.All(results.Where((_, i) => i % 2 == 1), r => Assert.DoesNotContain("usage", r.Raw));
        var perRequest = results[0].Usage!.Value;
        var (prompt, completion) = (perRequest.GetProperty("prompt_tokens").GetInt64(), perRequest.GetProperty("completion_tokens").GetInt64());
        Assert.All(results.Where((_, i) => i % 2 == 0), r => Assert.Equal(completion, r.Usage!.Value.GetProperty("completion_tokens").GetInt64()));
        var afterBurst = await api.GetAsync(Path);
        double served = 0;
        foreach (var (_, _, port) in afterBurst.ReadyReplicas()) served += await Inference.ReplicaMetricAsync(port, "kiln_requests_total");
        Assert.Equal(burst, served);
        Assert.Contains(watcher.Messages("Autoscaled"), m => m.StartsWith("wake 0 -> 1", StringComparison.Ordinal));

        // Steady load of 8 concurrent streams against a target of 2 per replica: up to max (2).
        long loadRequests = 0, loadPrompt = 0, loadCompletion = 0;
        using (var stopLoad = new CancellationTokenSource())
        {
            var workers = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
            {
                while (!stopLoad.IsCancellationRequested)
                {
                    var r = await inference.StreamAsync("/v1/completions",
                        new { model = Model, prompt = "Lily", max_tokens = 48, temperature = 0.8, seed = 1, stream = true, stream_options = new { include_usage = true } });
                    Assert.Equal(HttpStatusCode.OK, r.Status);
                    Interlocked.Increment(ref loadRequests);
                    Interlocked.Add(ref loadPrompt, r.Usage!.Value.GetProperty("prompt_tokens").GetInt64());
                    Interlocked.Add(ref loadCompletion, r.Usage!.Value.GetProperty("completion_tokens").GetInt64());
                }
            })).ToList();
            try
            {
                await Steps.WaitForAsync(api, Path, r => r.Int("desiredReplicaCount") == 2 && r.ReadyReplicas().Count == 2, "scale up to 2 under load");
            }
            finally
            {
                await stopLoad.CancelAsync();
                await Task.WhenAll(workers);
            }
        }

        // Idle: down to one replica after the scale-down window, then to zero after the scale-to-zero window.
        await Steps.WaitForAsync(api, Path, r => r.Int("desiredReplicaCount") == 0 && r.Body.GetProperty("replicas").GetArrayLength() == 0, "idle scale to zero");
        // The event log can trail the desired count by a poll of the watcher.
        static bool Ordered(List<string> d)
        {
            var up = d.FindIndex(m => m.StartsWith("scale up 1 -> 2", StringComparison.Ordinal));
            var down = d.FindIndex(m => m.StartsWith("scale down 2 -> 1", StringComparison.Ordinal));
            return up >= 0 && up < down && down < d.FindLastIndex(m => m.StartsWith("scale to zero 1 -> 0", StringComparison.Ordinal));
        }
        await Wait.UntilAsync(() => Ordered(watcher.Messages("Autoscaled")), TimeSpan.FromSeconds(15), "the scale-to-zero event after the scale-down");
        var decisions = watcher.Messages("Autoscaled");
        var up = decisions.FindIndex(m => m.StartsWith("scale up 1 -> 2", StringComparison.Ordinal));
        var down = decisions.FindIndex(m => m.StartsWith("scale down 2 -> 1", StringComparison.Ordinal));
        var zero = decisions.FindLastIndex(m => m.StartsWith("scale to zero 1 -> 0", StringComparison.Ordinal));
        Assert.True(up >= 0 && up < down && down < zero, string.Join("\n", decisions));
        var shown = await new Kilnctl(server.BaseUri, server.AdminKey, server.DataDir).OkAsync("get", "deployment", "web");
        Assert.Contains("scale to zero 1 -> 0", shown);

        // Usage: exact tokens and requests, accelerator-seconds within a second of the replicas' lifetimes.
        await Task.Delay(1500); // one usage flush
        await watcher.DisposeAsync();
        var usage = await api.GetAsync("/v1/accounts/default/usage?deployment=web");
        Assert.True(usage.Status == HttpStatusCode.OK, usage.ToString());
        var d = Assert.Single(usage.Body.GetProperty("deployments").EnumerateArray().ToList());
        // On a mismatch, say what the server logged about usage it could not bill.
        string UsageLog() => string.Join('\n', server.Output.Split('\n').Where(l => l.Contains("usage", StringComparison.OrdinalIgnoreCase)));
        Assert.True(burst + loadRequests == d.GetProperty("requests").GetInt64(), $"requests {d}\n{UsageLog()}");
        Assert.True(burst * prompt + loadPrompt == d.GetProperty("promptTokens").GetInt64(), $"expected {burst * prompt + loadPrompt} prompt tokens: {d}\n{UsageLog()}");
        Assert.True(burst * completion + loadCompletion == d.GetProperty("completionTokens").GetInt64(), $"expected {burst * completion + loadCompletion} completion tokens: {d}\n{UsageLog()}");
        Assert.All(watcher.Replicas.Values, life => Assert.NotNull(life.Gone));
        var lifetimes = watcher.Replicas.Values.Sum(l => (l.Gone!.Value - l.Ready).TotalSeconds);
        var billed = d.GetProperty("acceleratorSeconds").GetDouble();
        Assert.True(Math.Abs(billed - lifetimes) < 1.0, $"billed {billed}s, observed lifetimes {lifetimes}s over {watcher.Replicas.Count} replicas");
        var expectedCost = (decimal)billed * 2.90m / 3600m;
        Assert.InRange(d.GetProperty("cost").GetDecimal(), expectedCost - 0.00001m, expectedCost + 0.00001m);
        var key = Assert.Single(usage.Body.GetProperty("apiKeys").EnumerateArray().ToList());
        Assert.Equal("admin", key.GetProperty("apiKey").GetString());

        var text = await new Kilnctl(server.BaseUri, server.AdminKey, server.DataDir).OkAsync("get", "usage", "--deployment", "web");
        Assert.Contains("accounts/default/deployments/web", text);
    }
}
