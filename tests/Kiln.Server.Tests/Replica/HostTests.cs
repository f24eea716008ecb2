using System.Text.Json;
using Kiln.Core.Deployments;
using Kiln.Core.Replicas;
using Kiln.Engine.Models;
using Kiln.Engine.Tokenizers;
using Kiln.Server.Cli;
using Kiln.Server.Replica;

namespace Kiln.Server.Tests.Replica;

public class HostTests
{
    [Fact]
    public async Task Health_is_503_while_loading_then_ok()
    {
        using var gate = new ManualResetEventSlim(false);
        await using var r = await TestReplica.StartAsync(loadGate: gate);
        using (var loading = await r.Http.GetAsync("/health"))
        {
            Assert.Equal(503, (int)loading.StatusCode);
            Assert.Equal("loading", JsonDocument.Parse(await loading.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString());
        }
        var (status, body) = await r.PostAsync("/v1/completions", new { prompt = "a" });
        Assert.Equal(503, status);
        Assert.Equal("model_loading", body.GetProperty("error").GetProperty("code").GetString());

        gate.Set();
        await r.Replica.Loading;
        using var ready = await r.Http.GetAsync("/health");
        Assert.Equal(200, (int)ready.StatusCode);
        Assert.Equal("{\"status\":\"ok\"}", await ready.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_warm_up_runs_before_ready_and_leaves_no_trace_in_metrics()
    {
        // A budget the fake model never needs on an idle machine, so a busy one cannot spend it all on the engine's phase.
        await using var r = await TestReplica.StartAsync(maxBatch: 4, warmup: TimeSpan.FromSeconds(30));
        Assert.True(r.Replica.IsReady);
        Assert.True(r.Model.Forwards > 0);
        // Its own completions and chat requests, a full batch a round, were answered before ready.
        var http = r.Replica.HttpWarmupReport;
        Assert.NotNull(http);
        Assert.True(http.Rounds >= 1 && http.Requests == 4 * http.Rounds, http.ToString());
        Assert.True(http.Stopped is null || http.Stopped.StartsWith("budget", StringComparison.Ordinal), http.ToString());
        var metrics = await r.MetricsAsync();
        Assert.Contains("kiln_generated_tokens_total 0\n", metrics);
        Assert.Contains("kiln_prompt_tokens_total 0\n", metrics);
    }

    [Fact]
    public async Task A_failed_load_is_reported_by_health()
    {
        var options = new ReplicaOptions { ModelPath = "/models/broken.gguf", Port = 0 };
        await using var replica = await ReplicaHost.StartAsync(options, _ => throw new InvalidDataException("bad tensor data"));
        await replica.Loading;
        using var http = new HttpClient { BaseAddress = replica.BaseAddress };
        using var response = await http.GetAsync("/health");
        Assert.Equal(503, (int)response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("error", body.GetProperty("status").GetString());
        Assert.Contains("bad tensor data", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Models_lists_the_served_name()
    {
        await using var r = await TestReplica.StartAsync();
        var body = JsonDocument.Parse(await r.Http.GetStringAsync("/v1/models")).RootElement;
        Assert.Equal("list", body.GetProperty("object").GetString());
        var model = body.GetProperty("data")[0];
        Assert.Equal("fake-model.gguf", model.GetProperty("id").GetString());
        Assert.Equal("model", model.GetProperty("object").GetString());
    }

    [Fact]
    public async Task Metrics_expose_prometheus_series_that_move()
    {
        await using var r = await TestReplica.StartAsync();
        await r.PostAsync("/v1/completions", new { prompt = "ab", max_tokens = 3, temperature = 0 });
        await r.PostAsync("/v1/completions", new { prompt = "x", max_tokens = 9, temperature = 0 });
        var text = await r.MetricsAsync();
        Assert.Contains("# TYPE kiln_batch_occupancy gauge", text);
        Assert.Contains("kiln_batch_occupancy 0\n", text);
        Assert.Contains("kiln_queue_depth 0\n", text);
        Assert.Contains("kiln_prompt_tokens_total 3\n", text);
        Assert.Contains("kiln_generated_tokens_total 6\n", text);
        Assert.Contains("kiln_time_to_first_token_seconds_count 2\n", text);
        Assert.Contains("kiln_time_to_first_token_seconds_bucket{le=\"+Inf\"} 2\n", text);
        Assert.Contains("kiln_requests_total{finish_reason=\"length\"} 1\n", text);
        Assert.Contains("kiln_requests_total{finish_reason=\"stop\"} 1\n", text);
        // The fake model cannot save its KV, so its prefix cache stays off (the engine tests cover a live one).
        Assert.Contains("# TYPE kiln_prefix_cache_hit_tokens_total counter", text);
        Assert.Contains("kiln_prefix_cache_queries_total 0\n", text);
        Assert.Contains("kiln_prefix_cache_capacity_bytes 0\n", text);
    }

    [Fact]
    public async Task A_client_that_disconnects_frees_its_slot()
    {
        await using var r = await TestReplica.StartAsync(maxBatch: 1);
        r.Model.Gate.Reset();
        using (var cts = new CancellationTokenSource())
        {
            var request = r.Http.PostAsync("/v1/completions",
                new StringContent("{\"prompt\":\"a\",\"max_tokens\":100,\"stream\":true}"), cts.Token);
            await WaitForMetric(r, "kiln_batch_occupancy 1\n");
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
        }
        // The server learns of the disconnect asynchronously; keep the model blocked until it has,
        // or the sequence could run to its natural end first.
        await Task.Delay(500);
        r.Model.Gate.Set();
        await WaitForMetric(r, "kiln_requests_total{finish_reason=\"cancelled\"} 1\n");
        await WaitForMetric(r, "kiln_batch_occupancy 0\n");
        var (status, _) = await r.PostAsync("/v1/completions", new { prompt = "a", max_tokens = 1 });
        Assert.Equal(200, status);
    }

    [Fact]
    public void Command_line_errors_name_the_flag()
    {
        var model = Path.GetTempFileName();
        try
        {
            var root = KilnCommand.Create(_ => throw new InvalidOperationException("not used"));
            string Errors(params string[] args) => string.Join("\n", root.Parse(args).Errors.Select(e => e.Message));

            Assert.Contains("--port", Errors("replica", "--model", model, "--port", "abc"));
            Assert.Contains("--port", Errors("replica", "--model", model, "--port", "70000"));
            Assert.Contains("--max-batch-size", Errors("replica", "--model", model, "--max-batch-size", "0"));
            Assert.Contains("--ctx-size", Errors("replica", "--model", model, "--ctx-size", "-1"));
            Assert.Contains("--max-queue", Errors("replica", "--model", model, "--max-queue", "x"));
            Assert.Contains("--threads", Errors("replica", "--model", model, "--threads", "0"));
            Assert.Contains("--kv-cache-type", Errors("replica", "--model", model, "--kv-cache-type", "q4"));
            Assert.Contains("--model", Errors("replica", "--model", "/definitely/missing.gguf"));
            Assert.Contains("--warmup", Errors("replica", "--model", model, "--warmup", "5x"));
            Assert.Contains("--warmup", Errors("replica", "--model", model, "--warmup", "-1s"));
            Assert.Empty(Errors("replica", "--model", model, "--warmup", "0"));
            Assert.Contains("--model", Errors("replica"));
            Assert.Empty(Errors("replica", "--model", model, "--port", "0", "--kv-cache-type", "f32", "--model-name", "m"));

            // What the runtime writes, kiln replica reads.
            var full = new ReplicaArgs
            {
                ModelPath = model,
                Host = "0.0.0.0",
                Port = 0,
                MaxBatchSize = 2,
                ContextSize = 64,
                MaxQueue = 0,
                WorldSize = 2,
                KvCache = Precision.Fp16,
                ModelName = "m",
                ReplicaId = "r1",
                Adapters = ["a=/x.gguf:0.5"],
            };
            Assert.Empty(Errors([.. full.Format()]));

            // Every error at once, those of the model file and adapters with those of the flags' values.
            var all = Errors("replica", "--model", "/definitely/missing.gguf", "--port", "x", "--lora", "bad", "--host", "a b");
            Assert.Contains("--port must be an integer, got 'x'.", all);
            Assert.Contains("--model: file not found", all);
            Assert.Contains("--lora:", all);
            Assert.Contains("--host must be a host name or IP address, got 'a b'.", all);
        }
        finally
        {
            File.Delete(model);
        }
    }

    private static async Task WaitForMetric(TestReplica r, string line)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!(await r.MetricsAsync()).Contains(line))
        {
            Assert.True(DateTime.UtcNow < deadline, $"metric never showed: {line}\n{await r.MetricsAsync()}");
            await Task.Delay(10);
        }
    }
}
