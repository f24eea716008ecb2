using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Kiln.ControlPlane.Tests;

/// <summary>
/// How Kiln behaves on a bad day: clients that walk away, replicas killed mid-stream, deployments
/// that cannot serve, revoked keys. Each drives a real server and real replicas.
/// </summary>
public class ReliabilityTests
{
    private const string Stories = "accounts/default/models/stories";

    private static async Task<(KilnServer Server, Api Api)> StartWithDeploymentAsync(string id, byte[]? model = null)
    {
        var server = await KilnServer.StartAsync();
        var api = new Api(server.BaseUri, server.AdminKey);
        await Steps.ImportAsync(api, "default", "stories", model ?? TestModels.Stories260K());
        var created = await api.PostAsync($"/v1/accounts/default/deployments?deploymentId={id}", new { baseModel = Stories, minReplicaCount = 1 });
        Assert.True(created.Status == HttpStatusCode.OK, created.ToString());
        await Steps.WaitForAsync(api, $"/v1/accounts/default/deployments/{id}", r => r.State() == "READY", $"{id} READY");
        return (server, api);
    }

    private static HttpRequestMessage Completion(Uri baseUri, string key, object body, string? requestId = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUri, "/v1/completions"))
        {
            Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (requestId is not null) request.Headers.Add("X-Request-Id", requestId);
        return request;
    }

    private static async Task<long> ReplicaCounterAsync(int port, string name)
    {
        using var http = new HttpClient();
        var text = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
        var m = Regex.Match(text, $"^{name} ([0-9.e+]+)$", RegexOptions.Multiline);
        Assert.True(m.Success, $"{name} missing from the replica's metrics");
        return (long)double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    [SharedFact]
    public async Task Every_generated_token_is_billed_however_the_stream_ends()
    {
        var (server, api) = await StartWithDeploymentAsync("bill");
        using var serverLease = server;
        using var apiLease = api;
        var replica = (await api.GetAsync("/v1/accounts/default/deployments/bill")).ReadyReplicas().Single();
        var generatedBefore = await ReplicaCounterAsync(replica.Port, "kiln_generated_tokens_total");

        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(1) };
        var random = new Random(7);
        var abandoned = 0;
        var plans = Enumerable.Range(0, 16).Select(i => (Stream: i % 4 != 3, ReadEvents: i % 4 == 0 ? int.MaxValue : random.Next(1, 40), Chat: i % 2 == 1)).ToList();
        foreach (var batch in plans.Chunk(4))
        {
            await Task.WhenAll(batch.Select(async plan =>
            {
                object body = plan.Chat
                    ? new { model = Stories, messages = new[] { new { role = "user", content = "Tell me a story" } }, max_tokens = 300, temperature = 0.9, stream = plan.Stream }
                    : new { model = Stories, prompt = "Once upon a time", max_tokens = 300, temperature = 0.9, stream = plan.Stream };
                using var request = Completion(server.BaseUri, server.AdminKey, body);
                if (plan.Chat) request.RequestUri = new Uri(server.BaseUri, "/v1/chat/completions");
                using var cts = new CancellationTokenSource();
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                if (!plan.Stream)
                {
                    await response.Content.ReadAsStringAsync();
                    return;
                }
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
                var events = 0;
                while (await reader.ReadLineAsync() is { } line)
                {
                    if (line.StartsWith("data: ", StringComparison.Ordinal) && ++events >= plan.ReadEvents)
                    {
                        Interlocked.Increment(ref abandoned);
                        cts.Cancel(); // walk away mid-stream
                        break;
                    }
                }
            }));
        }
        Assert.True(abandoned >= 4, $"only {abandoned} streams were abandoned");

        // The replica finishes the cancelled sequences; then billed tokens must equal generated ones.
        await Wait.UntilAsync(async () => await ReplicaCounterAsync(replica.Port, "kiln_active_sequences") == 0, Steps.Timeout, "idle replica");
        var generated = await ReplicaCounterAsync(replica.Port, "kiln_generated_tokens_total") - generatedBefore;
        Assert.True(generated > 0);
        var usage = await Steps.WaitForAsync(api, "/v1/accounts/default/usage",
            r => r.Body.GetProperty("completionTokens").GetInt64() >= generated, $"{generated} billed completion tokens");
        await Task.Delay(1500); // one more flush: nothing is billed twice
        usage = await api.GetAsync("/v1/accounts/default/usage");
        Assert.Equal(generated, usage.Body.GetProperty("completionTokens").GetInt64());
        Assert.Equal(plans.Count, usage.Body.GetProperty("requests").GetInt64());
    }

    [SharedFact]
    public async Task A_replica_killed_mid_stream_ends_every_stream_with_an_error_event_or_complete()
    {
        // A model slow enough that its streams are still running when the replica is killed.
        var (server, api) = await StartWithDeploymentAsync("chaos", File.ReadAllBytes(SharedFiles.Model("synth-15m-q4_0.gguf")));
        using var serverLease = server;
        using var apiLease = api;
        var replica = (await api.GetAsync("/v1/accounts/default/deployments/chaos")).ReadyReplicas().Single();
        using var inference = new Inference(server.BaseUri, server.AdminKey);
        // Eight streams of 240 tokens (the model's context is 256) take a few hundred milliseconds on a
        // fast replica, so the kill follows the first tokens closely: the metric is polled every 5 ms.
        var streams = Enumerable.Range(0, 8)
            .Select(_ => inference.StreamAsync("/v1/completions", new { model = Stories, prompt = "Once upon a time", max_tokens = 240, ignore_eos = true, temperature = 1.0, stream = true }))
            .ToList();
        var underWay = Stopwatch.StartNew();
        while (await ReplicaCounterAsync(replica.Port, "kiln_generated_tokens_total") < 8)
        {
            Assert.True(underWay.Elapsed < Steps.Timeout, "the streams did not get under way");
            await Task.Delay(5);
        }
        Processes.Kill(replica.Pid);
        var results = await Task.WhenAll(streams);
        foreach (var r in results)
        {
            Assert.Equal(HttpStatusCode.OK, r.Status);
            // Complete ([DONE]), or cut off with an error event in OpenAI's shape and no [DONE].
            var errorEvent = r.Raw.Split('\n').Any(l => l.StartsWith("data: {\"error\":", StringComparison.Ordinal));
            Assert.True(r.Done ^ errorEvent, r.Raw);
            if (errorEvent) Assert.Contains("\"code\":\"upstream_error\"", r.Raw);
        }
        Assert.Contains(results, r => !r.Done);

        // The deployment notes why the replica went: a signal, not its last log line.
        var events = await Steps.WaitForAsync(api, "/v1/accounts/default/deployments/chaos", r => r.HasEvent("ReplicaExited"), "ReplicaExited");
        var exited = events.Body.GetProperty("events").EnumerateArray().First(e => e.GetProperty("type").GetString() == "ReplicaExited");
        Assert.Contains("signal 9 (SIGKILL", exited.GetProperty("message").GetString());
    }

    [SharedFact]
    public async Task A_failed_deployment_answers_at_once_and_releases_held_requests()
    {
        using var server = await KilnServer.StartAsync("--hold-timeout", "90s");
        using var api = new Api(server.BaseUri, server.AdminKey);
        await Steps.ImportAsync(api, "default", "stories", TestModels.Stories260K());
        // The stored file is damaged after its import: every replica fails to load it.
        foreach (var file in Directory.EnumerateFiles(server.DataDir, "*.gguf", SearchOption.AllDirectories))
        {
            File.WriteAllBytes(file, Encoding.ASCII.GetBytes("GGUF but not really"));
        }
        var created = await api.PostAsync("/v1/accounts/default/deployments?deploymentId=doomed", new { baseModel = Stories });
        Assert.True(created.Status == HttpStatusCode.OK, created.ToString());
        using var inference = new Inference(server.BaseUri, server.AdminKey);
        var clock = Stopwatch.StartNew();
        // Held while the deployment still tries to start its replica, then released with the failure.
        var held = await inference.PostAsync("/v1/completions", new { model = "accounts/default/deployments/doomed", prompt = "Hi", max_tokens = 2 });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, held.Status);
        Inference.AssertOpenAiError(held.Body, "DEPLOYMENT_FAILED");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"held {clock.Elapsed} of a 90s hold timeout");
        var message = held.Body.GetProperty("error").GetProperty("message").GetString()!;
        Assert.Contains("FAILED", message);
        Assert.DoesNotContain(server.DataDir, message); // no server paths to clients

        var failed = await api.GetAsync("/v1/accounts/default/deployments/doomed");
        Assert.Equal("FAILED", failed.State());
        var again = await inference.PostAsync("/v1/completions", new { model = "accounts/default/deployments/doomed", prompt = "Hi", max_tokens = 2 });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, again.Status);
        Inference.AssertOpenAiError(again.Body, "DEPLOYMENT_FAILED");
    }

    [SharedFact]
    public async Task Request_ids_are_accepted_or_made_echoed_and_logged_by_gateway_and_replica()
    {
        var (server, api) = await StartWithDeploymentAsync("ids");
        using var serverLease = server;
        using var apiLease = api;
        using var http = new HttpClient();
        using (var response = await http.SendAsync(Completion(server.BaseUri, server.AdminKey, new { model = Stories, prompt = "Hi", max_tokens = 3 }, "trace-42.a")))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("trace-42.a", response.Headers.GetValues("X-Request-Id").Single());
        }
        string made;
        using (var response = await http.SendAsync(Completion(server.BaseUri, server.AdminKey, new { model = "nope", prompt = "Hi" }, "bad id with spaces")))
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            made = response.Headers.GetValues("X-Request-Id").Single();
            Assert.StartsWith("req_", made);
        }
        await Wait.UntilAsync(() => server.Output.Contains("trace-42.a"), Steps.Timeout, "the gateway's log line");
        var line = server.Output.Split('\n').First(l => l.Contains("trace-42.a"));
        using (var doc = JsonDocument.Parse(line))
        {
            Assert.True(doc.RootElement.TryGetProperty("Timestamp", out _), line);
            Assert.Equal("Information", doc.RootElement.GetProperty("LogLevel").GetString());
        }
        // Log lines carry neither keys nor prompts (the admin key is printed once, outside the log, at first start).
        var logLines = server.Output.Split('\n').Where(l => l.StartsWith('{')).ToList();
        Assert.DoesNotContain(logLines, l => l.Contains(server.AdminKey));
        Assert.DoesNotContain(logLines, l => l.Contains("\"Hi\""));

        // The replica logged the same ID with the response's own ID.
        var replicaLog = Directory.EnumerateFiles(Path.Combine(server.DataDir, "replicas"), "*.log", SearchOption.AllDirectories).Single();
        await Wait.UntilAsync(() => ReadShared(replicaLog).Contains("trace-42.a"), Steps.Timeout, "the replica's log line");
        var replicaLine = ReadShared(replicaLog).Split('\n').First(l => l.Contains("trace-42.a") && l.Contains("/v1/completions"));
        Assert.Contains("cmpl-", replicaLine);
    }

    private static string ReadShared(string path)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(f).ReadToEnd();
    }

    [SharedFact]
    public async Task A_deleted_key_stops_working_at_once_on_the_instance_that_deleted_it()
    {
        using var server = await KilnServer.StartAsync();
        using var admin = new Api(server.BaseUri, server.AdminKey);
        var created = await admin.PostAsync("/v1/accounts/default/apiKeys", new { displayName = "short-lived" });
        var key = created.Body.GetProperty("key").GetString()!;
        var keyId = created.Body.GetProperty("keyId").GetString()!;
        using var user = new Api(server.BaseUri, key);
        Assert.Equal(HttpStatusCode.OK, (await user.GetAsync("/v1/accounts/default/deployments")).Status);
        Assert.Equal(HttpStatusCode.OK, (await admin.DeleteAsync($"/v1/accounts/default/apiKeys/{keyId}")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await user.GetAsync("/v1/accounts/default/deployments")).Status);
    }
}
