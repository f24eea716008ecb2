using System.ClientModel;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using OpenAI;
using OpenAI.Chat;

namespace Kiln.ControlPlane.Tests;

/// <summary>One server with a ready deployment "chat", shared by the gateway tests.</summary>
public sealed class GatewayServer : IAsyncLifetime
{
    public const string Chat = "accounts/default/models/stories";
    public KilnServer Server { get; private set; } = null!;
    public Api Api { get; private set; } = null!;
    public Inference Inference { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (SharedFiles.Root is null) return;
        Server = await KilnServer.StartAsync("--hold-timeout", "2s", "--max-held-requests", "4", "--reap-interval", "300ms", "--autoscale-interval", "500ms");
        Api = new Api(Server.BaseUri, Server.AdminKey);
        Inference = new Inference(Server.BaseUri, Server.AdminKey);
        await Steps.ImportAsync(Api, "default", "stories", TestModels.Stories260K());
        var created = await Api.PostAsync("/v1/accounts/default/deployments?deploymentId=chat", new { baseModel = Chat, minReplicaCount = 1 });
        Assert.True(created.Status == HttpStatusCode.OK, created.ToString());
        await Steps.WaitForAsync(Api, "/v1/accounts/default/deployments/chat", r => r.State() == "READY", "chat READY");
    }

    public Task DisposeAsync()
    {
        Inference?.Dispose();
        Api?.Dispose();
        Server?.Dispose();
        return Task.CompletedTask;
    }
}

public class GatewayEndToEndTests(GatewayServer fixture) : IClassFixture<GatewayServer>
{
    private KilnServer Server => fixture.Server;
    private Api Api => fixture.Api;
    private Inference Inference => fixture.Inference;

    [SharedFact]
    public async Task Errors_are_openai_shaped_and_control_plane_routes_keep_theirs()
    {
        var body = new { model = GatewayServer.Chat, prompt = "Hi", max_tokens = 2 };
        foreach (var path in new[] { "/v1/completions", "/inference/v1/chat/completions" })
        {
            var unauthorized = await Inference.PostAsync(path, body, withKey: "kiln_not-a-real-key");
            Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.Status);
            Inference.AssertOpenAiError(unauthorized.Body, "invalid_api_key");
        }
        var unknown = await Inference.PostAsync("/v1/completions", new { model = "accounts/default/models/nope", prompt = "Hi" });
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
        Inference.AssertOpenAiError(unknown.Body, "model_not_found");
        var malformed = await Inference.PostAsync("/v1/completions", new { prompt = "Hi" });
        Assert.Equal(HttpStatusCode.BadRequest, malformed.Status);
        Inference.AssertOpenAiError(malformed.Body, "invalid_request");

        // Another account sees neither the model nor the deployment; its tier gates accelerators.
        var other = await Api.PostAsync("/v1/accounts", new { accountId = "other", tier = "developer" });
        var otherKey = other.Body.GetProperty("apiKey").GetProperty("key").GetString()!;
        foreach (var model in new[] { GatewayServer.Chat, "accounts/default/deployments/chat", "stories#chat" })
        {
            var hidden = await Inference.PostAsync("/v1/completions", new { model, prompt = "Hi" }, withKey: otherKey);
            Assert.Equal(HttpStatusCode.NotFound, hidden.Status);
            Inference.AssertOpenAiError(hidden.Body, "model_not_found");
        }
        using var otherApi = new Api(Server.BaseUri, otherKey);
        var denied = await otherApi.PostAsync("/v1/accounts/other/deployments", new { baseModel = "accounts/other/models/m", acceleratorType = "NVIDIA_H100_80GB" });
        Assert.Equal(HttpStatusCode.Forbidden, denied.Status);
        Assert.Equal("PERMISSION_DENIED", denied.Code);
        Assert.Contains("requires the enterprise tier", denied.Message);
        await Api.PostAsync("/v1/accounts", new { accountId = "big", tier = "enterprise" });

        // The legacy model#deployment form works; the control plane keeps its own error shape.
        var legacy = await Inference.PostAsync("/v1/completions", new { model = "stories#chat", prompt = "Hi", max_tokens = 2 });
        Assert.True(legacy.Status == HttpStatusCode.OK, legacy.Body.ToString());
        // Completions skip endpoint routing when spelled as clients send them; other spellings reach the same handler through it.
        foreach (var path in new[] { "/V1/Completions", "/inference/v1/completions/" })
        {
            var spelled = await Inference.PostAsync(path, new { model = "stories#chat", prompt = "Hi", max_tokens = 2 });
            Assert.True(spelled.Status == HttpStatusCode.OK, $"{path}: {spelled.Body}");
        }
        var missing = await Api.GetAsync("/v1/accounts/default/deployments/nope");
        Assert.Equal("NOT_FOUND", missing.Code);
        var models = await Api.GetAsync("/v1/models");
        Assert.Contains(models.Body.GetProperty("data").EnumerateArray(), m => m.GetProperty("id").GetString() == GatewayServer.Chat);

        // models.retrieve: the ID keeps its slashes; an unknown one is OpenAI's model_not_found.
        var one = await Api.GetAsync("/inference/v1/models/" + GatewayServer.Chat);
        Assert.True(one.Status == HttpStatusCode.OK, one.ToString());
        Assert.Equal(GatewayServer.Chat, one.Body.GetProperty("id").GetString());
        Assert.Equal("model", one.Body.GetProperty("object").GetString());
        Assert.Contains("accounts/default/deployments/chat", one.Body.GetProperty("deployments").EnumerateArray().Select(d => d.GetString()));
        var none = await Api.GetAsync("/v1/models/accounts/default/models/nope");
        Assert.Equal(HttpStatusCode.NotFound, none.Status);
        Inference.AssertOpenAiError(none.Body, "model_not_found");
    }

    [SharedFact]
    public async Task A_deployment_that_cannot_wake_answers_503_after_the_hold_timeout_or_at_once_when_the_queue_is_full()
    {
        // Eight slots per replica on an eight-slot server that already runs "chat": its replica never starts.
        var created = await Api.PostAsync("/v1/accounts/default/deployments?deploymentId=stuck",
            new { baseModel = GatewayServer.Chat, acceleratorCount = 8, autoscalingPolicy = new { scaleToZeroWindow = "1s" } });
        Assert.True(created.Status == HttpStatusCode.OK, created.ToString());
        var clock = Stopwatch.StartNew();
        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(async _ =>
        {
            var r = await Inference.PostAsync("/v1/completions", new { model = "accounts/default/deployments/stuck", prompt = "Hi", max_tokens = 2 });
            return (r, clock.Elapsed);
        }));
        Assert.All(results, x =>
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, x.r.Status);
            Inference.AssertOpenAiError(x.r.Body, "DEPLOYMENT_SCALING_UP");
            Assert.Equal(TimeSpan.FromSeconds(5), x.r.Headers.RetryAfter?.Delta);
        });
        Assert.Equal(4, results.Count(x => x.Elapsed >= TimeSpan.FromSeconds(1.9)));
        Assert.Equal(2, results.Count(x => x.Elapsed < TimeSpan.FromSeconds(1.5)));
        await Api.DeleteAsync("/v1/accounts/default/deployments/stuck");
    }

    [SharedFact]
    public async Task An_unused_deployment_is_auto_deleted_and_says_why()
    {
        var created = await Api.PostAsync("/v1/accounts/default/deployments?deploymentId=temp",
            new { baseModel = GatewayServer.Chat, unusedAutoDeleteDuration = "2s" });
        Assert.True(created.Status == HttpStatusCode.OK, created.ToString());
        var deleted = await Steps.WaitForAsync(Api, "/v1/accounts/default/deployments/temp", r => r.State() == "DELETED", "auto-delete");
        Assert.StartsWith("auto-deleted: unused for 2s", deleted.Body.GetProperty("status").GetProperty("message").GetString());
        Assert.True(deleted.HasEvent("AutoDeleted"), deleted.ToString());
        var gone = await Inference.PostAsync("/v1/completions", new { model = "accounts/default/deployments/temp", prompt = "Hi" });
        Assert.Equal(HttpStatusCode.NotFound, gone.Status);
    }

    [SharedFact]
    public async Task The_openai_dotnet_client_works_against_both_base_urls()
    {
        foreach (var prefix in new[] { "/v1", "/inference/v1" })
        {
            var client = new OpenAIClient(new ApiKeyCredential(Server.AdminKey), new OpenAIClientOptions { Endpoint = new Uri(Server.BaseUri, prefix) });
            var chat = client.GetChatClient(GatewayServer.Chat);
            var options = new ChatCompletionOptions { MaxOutputTokenCount = 12, Temperature = 0 };
            ChatCompletion done = await chat.CompleteChatAsync([new UserChatMessage("Tell me a story")], options);
            Assert.Equal(12, done.Usage.OutputTokenCount);
            var streamed = new StringBuilder();
            ChatTokenUsage? usage = null;
            await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Tell me a story")], options))
            {
                foreach (var part in update.ContentUpdate) streamed.Append(part.Text);
                usage ??= update.Usage;
            }
            Assert.Equal(done.Content[0].Text, streamed.ToString());
            Assert.Equal(12, usage?.OutputTokenCount); // this client asks for stream usage itself
            var models = await client.GetOpenAIModelClient().GetModelsAsync();
            Assert.Contains(models.Value, m => m.Id == GatewayServer.Chat);
        }
        var bad = new OpenAIClient(new ApiKeyCredential("kiln_wrong"), new OpenAIClientOptions { Endpoint = new Uri(Server.BaseUri, "/v1") });
        var error = await Assert.ThrowsAsync<ClientResultException>(() => bad.GetChatClient(GatewayServer.Chat).CompleteChatAsync([new UserChatMessage("x")]));
        Assert.Equal(401, error.Status);
    }

    [NodeClientFact]
    public async Task The_openai_npm_package_works_against_the_gateway()
    {
        var dir = NodeClient.Directory;
        var psi = new ProcessStartInfo("node", ["smoke.mjs"]) { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["KILN_BASE_URL"] = new Uri(Server.BaseUri, "/inference/v1").ToString();
        psi.Environment["KILN_API_KEY"] = Server.AdminKey;
        psi.Environment["KILN_MODEL"] = GatewayServer.Chat;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(cts.Token);
        Assert.True(p.ExitCode == 0, $"node exited {p.ExitCode}: {await stderr}");
        var result = JsonDocument.Parse(await stdout).RootElement;
        Assert.Equal(result.GetProperty("plain").GetString(), result.GetProperty("streamed").GetString());
        Assert.Equal(12, result.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal("length", result.GetProperty("finish").GetString());
        Assert.False(string.IsNullOrEmpty(result.GetProperty("completion").GetString()));
        Assert.Equal(404, result.GetProperty("notFound").GetProperty("status").GetInt32());
        Assert.Contains(GatewayServer.Chat, result.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
    }

    [SharedFact]
    public async Task An_fp16_deployment_serves_and_a_precision_change_replaces_its_replica()
    {
        const string path = "/v1/accounts/default/deployments/half";
        var created = await Api.PostAsync("/v1/accounts/default/deployments?deploymentId=half",
            new { baseModel = GatewayServer.Chat, minReplicaCount = 1, precision = "FP16" });
        Assert.True(created.Status == HttpStatusCode.OK, created.ToString());
        var ready = await Steps.WaitForAsync(Api, path, r => r.State() == "READY" && r.ReadyReplicas().Count == 1, "half READY");
        Assert.Equal("FP16", ready.Str("precision"));
        var (_, halfPid, _) = ready.ReadyReplicas()[0];
        Assert.Equal("f16", Processes.ArgumentAfter(halfPid, "--kv-cache-type"));
        var completion = await Inference.PostAsync("/v1/completions",
            new { model = "accounts/default/deployments/half", prompt = "Once upon a time", max_tokens = 8, temperature = 0 });
        Assert.True(completion.Status == HttpStatusCode.OK, completion.Body.ToString());
        Assert.False(string.IsNullOrEmpty(completion.Body.GetProperty("choices")[0].GetProperty("text").GetString()));

        // Back to FP32: the replica's cache type is fixed at start, so a new process replaces it.
        var patched = await Api.PatchAsync(path, new { precision = "FP32" });
        Assert.True(patched.Status == HttpStatusCode.OK, patched.ToString());
        var replaced = await Steps.WaitForAsync(Api, path,
            r => r.State() == "READY" && r.ReadyReplicas() is [var x] && x.Pid != halfPid && r.Body.GetProperty("replicas").GetArrayLength() == 1, "an FP32 replica");
        Assert.Equal("f32", Processes.ArgumentAfter(replaced.ReadyReplicas()[0].Pid, "--kv-cache-type"));
        await Wait.UntilAsync(() => !Processes.IsAlive(halfPid), Steps.Timeout, "the FP16 replica to exit");
        await Api.DeleteAsync(path);
    }

    [SharedFact]
    public async Task A_replica_count_change_keeps_the_replica_and_an_accelerator_the_node_lacks_is_refused()
    {
        const string path = "/v1/accounts/default/deployments/moved";
        var created = await Api.PostAsync("/v1/accounts/default/deployments?deploymentId=moved", new { baseModel = GatewayServer.Chat, minReplicaCount = 1 });
        Assert.True(created.Status == HttpStatusCode.OK, created.ToString());
        var ready = await Steps.WaitForAsync(Api, path, r => r.State() == "READY" && r.ReadyReplicas().Count == 1, "moved READY");
        // The server offers CPU slots only, so that is what a deployment naming no type gets.
        Assert.Equal("CPU", ready.Str("acceleratorType"));
        var (first, firstPid, _) = ready.ReadyReplicas()[0];

        // The PATCH answers UPDATING; READY again means the same replica moved onto the new generation.
        var widened = await Api.PatchAsync(path, new { maxReplicaCount = 2 });
        Assert.True(widened.Status == HttpStatusCode.OK, widened.ToString());
        var kept = await Steps.WaitForAsync(Api, path, r => r.State() == "READY", "moved READY after widening");
        Assert.Equal([first], kept.Body.GetProperty("replicas").EnumerateArray().Select(x => x.GetProperty("replicaId").GetString()));

        // A GPU type the node does not hold is refused, naming what it holds, and the replica keeps serving.
        // (A type change that fits replaces the replica: AcceleratorEndToEndTests.)
        var moved = await Api.PatchAsync(path, new { acceleratorType = "NVIDIA_A10G_24GB" });
        Assert.Equal((HttpStatusCode.BadRequest, "INVALID_ARGUMENT"), (moved.Status, moved.Code));
        Assert.Equal("acceleratorType: no node holds NVIDIA_A10G_24GB; available: local: 8 x CPU", moved.Message);
        var unchanged = await Api.GetAsync(path);
        Assert.Equal(("CPU", first, firstPid), (unchanged.Str("acceleratorType"), unchanged.ReadyReplicas()[0].Id, unchanged.ReadyReplicas()[0].Pid));
        var completion = await Inference.PostAsync("/v1/completions",
            new { model = "accounts/default/deployments/moved", prompt = "Once upon a time", max_tokens = 4, temperature = 0 });
        Assert.True(completion.Status == HttpStatusCode.OK, completion.Body.ToString());
        await Api.DeleteAsync(path);
    }

    [SharedFact]
    public async Task Requests_survive_a_replica_dying_and_metrics_are_exported_per_deployment()
    {
        var created = await Api.PostAsync("/v1/accounts/default/deployments?deploymentId=pair", new { baseModel = GatewayServer.Chat, minReplicaCount = 2 });
        Assert.True(created.Status == HttpStatusCode.OK, created.ToString());
        var ready = await Steps.WaitForAsync(Api, "/v1/accounts/default/deployments/pair", r => r.ReadyReplicas().Count == 2, "two replicas");
        await Task.Delay(1200); // the gateway's directory sees both
        Processes.Kill(ready.ReadyReplicas()[0].Pid);
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            Inference.PostAsync("/v1/completions", new { model = "accounts/default/deployments/pair", prompt = "Hi", max_tokens = 4 })));
        Assert.All(results, r => Assert.True(r.Status == HttpStatusCode.OK, r.Body.ToString()));

        await Task.Delay(700); // an autoscaler pass scrapes the replicas
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new("Bearer", Server.AdminKey);
        var metrics = await http.GetStringAsync(new Uri(Server.BaseUri, "/metrics"));
        Assert.Contains("kiln_gateway_requests_total{deployment=\"accounts/default/deployments/pair\",code=\"200\"} 8", metrics);
        Assert.Matches("kiln_batch_occupancy\\{deployment=\"accounts/default/deployments/pair\",replica=\"r-[a-z0-9]+\"\\} ", metrics);
        Assert.Contains("kiln_gateway_request_duration_seconds_bucket{deployment=\"accounts/default/deployments/pair\",le=\"+Inf\"} 8", metrics);
        await Api.DeleteAsync("/v1/accounts/default/deployments/pair");
    }

    [SharedFact]
    public async Task Prompts_sharing_a_prefix_land_on_one_replica_and_reuse_its_cached_prefix()
    {
        const string deployment = "accounts/default/deployments/prefixed";
        var created = await Api.PostAsync("/v1/accounts/default/deployments?deploymentId=prefixed", new { baseModel = GatewayServer.Chat, minReplicaCount = 2 });
        Assert.True(created.Status == HttpStatusCode.OK, created.ToString());
        await Steps.WaitForAsync(Api, "/v1/accounts/default/deployments/prefixed", r => r.ReadyReplicas().Count == 2, "two replicas");
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new("Bearer", Server.AdminKey);
        async Task<Dictionary<string, (long Queries, long Hits, long HitTokens)>> PrefixMetrics()
        {
            var text = await http.GetStringAsync(new Uri(Server.BaseUri, "/metrics"));
            long Value(string family, string replica) => long.Parse(Regex.Match(text,
                family + Regex.Escape($"{{deployment=\"{deployment}\",replica=\"{replica}\"}} ") + "(\\d+)").Groups[1].Value);
            return Regex.Matches(text, Regex.Escape($"kiln_prefix_cache_queries_total{{deployment=\"{deployment}\",replica=\"") + "(r-[a-z0-9]+)")
                .Select(m => m.Groups[1].Value).ToDictionary(r => r,
                    r => (Value("kiln_prefix_cache_queries_total", r), Value("kiln_prefix_cache_hits_total", r), Value("kiln_prefix_cache_hit_tokens_total", r)));
        }
        // Both replicas are in the gateway's table once it scrapes both through it.
        await Wait.UntilAsync(async () => (await PrefixMetrics()).Count == 2, Steps.Timeout, "both replicas scraped by the gateway");

        // Longer than the characters the gateway hashes, so every prompt has the same key.
        var shared = string.Concat(Enumerable.Repeat("Once upon a time, a girl named Lily went to the park. ", 20));
        for (var i = 0; i < 5; i++)
        {
            var r = await Inference.PostAsync("/v1/completions", new { model = deployment, prompt = shared + $"Then friend number {i} came.", max_tokens = 4, temperature = 0 });
            Assert.True(r.Status == HttpStatusCode.OK, r.Body.ToString());
        }
        var after = await PrefixMetrics();
        var used = after.Where(kv => kv.Value.Queries > 0).ToList();
        Assert.True(used.Count == 1, $"prompts went to {used.Count} replicas: {string.Join(", ", after)}");
        var (queries, hits, hitTokens) = used[0].Value;
        Assert.Equal(5, queries);
        Assert.Equal(4, hits);
        Assert.True(hitTokens >= 4 * 200, $"{hitTokens} prompt tokens came from the cache");
        await Api.DeleteAsync("/v1/accounts/default/deployments/prefixed");
    }
}

/// <summary>The node script under tests/clients/node, and whether it can run here.</summary>
public static class NodeClient
{
    public static readonly string Directory = Find();

    public static string? Missing()
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("node", ["--version"]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            p.WaitForExit(10_000);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "node is not installed: install Node.js 20+ to run the openai npm client test";
        }
        return System.IO.Directory.Exists(Path.Combine(Directory, "node_modules", "openai"))
            ? null
            : $"{Directory}/node_modules is missing: run `npm ci` there (.ci/run does)";
    }

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "clients", "node");
            if (System.IO.Directory.Exists(candidate)) return candidate;
        }
        return Path.Combine("tests", "clients", "node");
    }
}

/// <summary>A fact that needs the shared models, node and the npm packages; skipped with the reason otherwise.</summary>
public sealed class NodeClientFactAttribute : FactAttribute
{
    public NodeClientFactAttribute()
    {
        if (SharedFiles.Root is null) Skip = SharedFiles.MissingMessage;
        else if (NodeClient.Missing() is { } why) Skip = why;
    }
}
