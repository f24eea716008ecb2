using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Kiln.ControlPlane.Tests;

/// <summary>
/// Deployments on other engines than Kiln's own, through the real server, kilnctl and gateway: vLLM
/// and SGLang as the stand-in engine under their own command lines, Kiln's replica through a custom
/// profile's template, and the ways an engine can fail.
/// </summary>
public class EngineEndToEndTests(EngineFixture f) : IClassFixture<EngineFixture>
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(90);

    private async Task<Api.Reply> WaitAsync(string deployment, Func<Api.Reply, bool> done, string what)
    {
        Api.Reply? last = null;
        try
        {
            return await Wait.ForAsync(async () =>
            {
                last = await f.Api.GetAsync($"/v1/accounts/default/deployments/{deployment}");
                return done(last) ? last : null;
            }, Long, what);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}; last: {last}");
        }
    }

    private static IEnumerable<string> Events(Api.Reply d) =>
        d.Body.GetProperty("events").EnumerateArray().Select(e => $"{e.GetProperty("type").GetString()}: {e.GetProperty("message").GetString()}");

    private static int ReadyReplicas(Api.Reply d) =>
        d.Body.GetProperty("replicas").EnumerateArray().Count(r => r.GetProperty("phase").GetString() == "READY");

    [Fact]
    public async Task A_vllm_deployment_is_imported_served_autoscaled_on_its_metrics_takes_an_addon_and_stops()
    {
        var import = await f.Ctl.RunAsync("import", "model", "tiny-hf", "--from", f.HfModel("tiny-hf"));
        Assert.True(import.ExitCode == 0, import.ToString());
        Assert.Contains("LlamaForCausalLM, bfloat16, 128 parameters", import.Stderr);
        Assert.Contains("HF_SAFETENSORS", await f.Ctl.OkAsync("get", "model", "tiny-hf"));

        await f.Ctl.OkAsync("create", "deployment", "tiny-hf", "--deployment-id", "vl", "--engine", "vllm", "--enable-addons",
            "--min-replica-count", "1", "--max-replica-count", "2", "--scale-up-window", "0s", "--world-size", "2", "--wait", "--wait-timeout", "90s");
        var patched = await f.Api.PatchAsync("/v1/accounts/default/deployments/vl",
            new { autoscalingPolicy = new { loadTargets = new Dictionary<string, double> { ["concurrent_requests"] = 4 } } });
        Assert.True(patched.Status == HttpStatusCode.OK, patched.ToString());
        var shown = await f.Ctl.OkAsync("get", "deployment", "vl");
        Assert.Contains("vllm", shown);
        var ready = await WaitAsync("vl", d => ReadyReplicas(d) == 1, "one READY vllm replica");
        Assert.Contains(Events(ready), e => e.Contains("with engine vllm: vllm serve") && e.Contains("--tensor-parallel-size 2")
            && e.Contains("--served-model-name accounts/default/models/tiny-hf") && e.Contains("--enable-lora"));

        using var http = new HttpClient { BaseAddress = f.Server.BaseUri };
        http.DefaultRequestHeaders.Authorization = new("Bearer", f.Server.AdminKey);
        var answer = await http.PostAsJsonAsync("v1/completions", new { model = "accounts/default/models/tiny-hf", prompt = "Once upon a time", max_tokens = 3 });
        var body = await answer.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(answer.IsSuccessStatusCode, body.ToString());
        Assert.Equal(" w0 w1 w2", body.GetProperty("choices")[0].GetProperty("text").GetString());
        Assert.Equal(3, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());

        // Load that only the engine's own metric names show: the autoscaler reads vllm:num_requests_running.
        var replica = ready.Body.GetProperty("replicas").EnumerateArray().Single();
        using var direct = new HttpClient { BaseAddress = new Uri($"http://{replica.GetProperty("host").GetString()}:{replica.GetProperty("port").GetInt32()}/") };
        (await direct.PostAsJsonAsync("standin/load", new { running = 12, waiting = 0, kv = 0.2 })).EnsureSuccessStatusCode();
        var scaled = await WaitAsync("vl", d => ReadyReplicas(d) == 2, "a second replica started by the engine's metrics");
        Assert.Contains(Events(scaled), e => e.StartsWith("Autoscaled", StringComparison.Ordinal));
        (await direct.PostAsJsonAsync("standin/load", new { running = 0, waiting = 0, kv = 0 })).EnsureSuccessStatusCode();

        // An addon goes onto every replica through vLLM's runtime LoRA endpoints.
        var lora = await f.Ctl.RunAsync("create", "model", "tiny-lora", "--base-model", "tiny-hf", "--from", f.PeftAdapter("tiny-lora"));
        Assert.True(lora.ExitCode == 0, lora.ToString());
        await f.Ctl.OkAsync("deploy", "tiny-lora", "--deployment-id", "vl", "--wait", "--wait-timeout", "60s");
        var adapted = await http.PostAsJsonAsync("v1/chat/completions", new
        {
            model = "accounts/default/models/tiny-lora",
            messages = new[] { new { role = "user", content = "hello there" } },
            max_tokens = 2,
        });
        var adaptedBody = await adapted.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(adapted.IsSuccessStatusCode, adaptedBody.ToString());
        Assert.Equal(" accounts/default/models/tiny-lora:w0 accounts/default/models/tiny-lora:w1",
            adaptedBody.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());

        await f.Ctl.OkAsync("undeploy", "tiny-lora", "--deployment-id", "vl", "--wait", "--wait-timeout", "60s");
        await f.Ctl.OkAsync("delete", "deployment", "vl", "--wait", "--wait-timeout", "60s");
        await Wait.UntilAsync(() => !Processes.WithArgumentContaining(Path.Combine(f.Server.DataDir, "models", "default", "tiny-hf")).Any(), Long, "vllm replicas gone");
    }

    /// <summary>Imports a Hugging Face folder as <paramref name="model"/> and deploys it on SGLang with one replica, READY.</summary>
    private async Task<Api.Reply> ReadySglangAsync(string model, string deployment)
    {
        Assert.Equal(0, (await f.Ctl.RunAsync("import", "model", model, "--from", f.HfModel(model))).ExitCode);
        var created = await f.Api.PostAsync($"/v1/accounts/default/deployments?deploymentId={deployment}",
            new { baseModel = $"accounts/default/models/{model}", engine = "sglang", minReplicaCount = 1 });
        Assert.True(created.Status == HttpStatusCode.OK, created.ToString());
        Assert.Equal("sglang", created.Str("engine"));
        return await WaitAsync(deployment, d => d.State() == "READY", "sglang READY");
    }

    [Fact]
    public async Task An_sglang_deployment_serves_streamed_chat_with_usage()
    {
        var ready = await ReadySglangAsync("small-hf", "sg");
        Assert.Contains(Events(ready), e => e.Contains("python3 -m sglang.launch_server --model-path") && e.Contains("--tp-size 1"));

        using var inference = new Inference(f.Server.BaseUri, f.Server.AdminKey);
        var streamed = await inference.StreamAsync("/v1/chat/completions", new
        {
            model = "accounts/default/models/small-hf",
            messages = new[] { new { role = "user", content = "hi" } },
            max_tokens = 4,
            stream = true,
            stream_options = new { include_usage = true },
        });
        Assert.Equal(HttpStatusCode.OK, streamed.Status);
        Assert.True(streamed.Done, streamed.Raw);
        Assert.Equal(" w0 w1 w2 w3", streamed.Text);
        Assert.Equal(4, streamed.Usage!.Value.GetProperty("completion_tokens").GetInt32());
        await f.Api.DeleteAsync("/v1/accounts/default/deployments/sg");
    }

    [Fact]
    public async Task An_engine_replica_outlives_a_killed_server_and_is_adopted_by_the_next_one()
    {
        var ready = await ReadySglangAsync("kept-hf", "kept");
        var (id, pid, port) = Assert.Single(ready.ReadyReplicas());
        var listed = await f.Api.GetAsync("/v1/accounts/default/deployments?filter=" + Uri.EscapeDataString("engine=\"sglang\" AND state=\"READY\""));
        Assert.Contains(listed.Body.GetProperty("deployments").EnumerateArray(), d => d.GetProperty("name").GetString() == "accounts/default/deployments/kept");
        var hf = await f.Api.GetAsync("/v1/accounts/default/models?filter=" + Uri.EscapeDataString("format=\"HF_SAFETENSORS\""));
        Assert.Contains(hf.Body.GetProperty("models").EnumerateArray(), m => m.GetProperty("name").GetString() == "accounts/default/models/kept-hf");

        // kill -9 of the server: the engine's command line carries no Kiln flags; its environment names the replica.
        f.Server.Crash();
        Assert.True(Processes.IsAlive(pid));
        await f.Server.RestartAsync();
        var adopted = await WaitAsync("kept", d => Events(d).Any(e => e.StartsWith("ReplicaAdopted", StringComparison.Ordinal)) && d.State() == "READY",
            "the engine replica adopted");
        Assert.Equal((id, pid, port), Assert.Single(adopted.ReadyReplicas()));
        Assert.DoesNotContain(Events(adopted), e => e.StartsWith("ReplicaStarted", StringComparison.Ordinal) && !e.Contains(id));

        using var http = new HttpClient { BaseAddress = f.Server.BaseUri };
        http.DefaultRequestHeaders.Authorization = new("Bearer", f.Server.AdminKey);
        var answer = await http.PostAsJsonAsync("v1/completions", new { model = "accounts/default/models/kept-hf", prompt = "Once", max_tokens = 2 });
        Assert.True(answer.IsSuccessStatusCode, await answer.Content.ReadAsStringAsync());

        await f.Ctl.OkAsync("delete", "deployment", "kept", "--wait", "--wait-timeout", "60s");
        await Wait.UntilAsync(() => !Processes.IsAlive(pid), Long, "the adopted engine replica stopped on delete");
    }

    [SharedFact]
    public async Task Kiln_replica_started_through_a_custom_template_serves_real_inference()
    {
        Assert.Equal(HttpStatusCode.OK, (await Steps.ImportAsync(f.Api, "default", "stories", TestModels.Stories260K())).Status);
        var created = await f.Api.PostAsync("/v1/accounts/default/deployments?deploymentId=tpl",
            new { baseModel = "accounts/default/models/stories", engine = "kiln-template", minReplicaCount = 1 });
        Assert.True(created.Status == HttpStatusCode.OK, created.ToString());
        var ready = await WaitAsync("tpl", d => d.State() == "READY", "template replica READY");
        Assert.Contains(Events(ready), e => e.Contains("with engine kiln-template:") && e.Contains(" replica --model ") && e.Contains("--max-batch-size 4"));

        using var inference = new Inference(f.Server.BaseUri, f.Server.AdminKey);
        var (status, body, _) = await inference.PostAsync("/v1/completions",
            new { model = "accounts/default/models/stories", prompt = "Once upon a time", max_tokens = 8, temperature = 0 });
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.False(string.IsNullOrWhiteSpace(body.GetProperty("choices")[0].GetProperty("text").GetString()));
        Assert.Equal(8, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        await f.Api.DeleteAsync("/v1/accounts/default/deployments/tpl");
    }

    [Fact]
    public async Task A_model_in_a_format_the_engine_cannot_serve_an_unknown_engine_and_addons_on_llama_server_are_400()
    {
        Assert.Equal(HttpStatusCode.OK, (await Steps.ImportAsync(f.Api, "default", "gguf", TestModels.Tiny())).Status);
        Assert.Equal(0, (await f.Ctl.RunAsync("import", "model", "folder-hf", "--from", f.HfModel("folder-hf"))).ExitCode);

        var gguf = await f.Api.PostAsync("/v1/accounts/default/deployments", new { baseModel = "accounts/default/models/gguf", engine = "vllm" });
        Assert.Equal(HttpStatusCode.BadRequest, gguf.Status);
        Assert.Contains("vllm serves HF_SAFETENSORS models, but accounts/default/models/gguf is GGUF", gguf.Message);
        var folder = await f.Api.PostAsync("/v1/accounts/default/deployments", new { baseModel = "accounts/default/models/folder-hf" });
        Assert.Equal(HttpStatusCode.BadRequest, folder.Status);
        Assert.Contains("kiln serves GGUF models", folder.Message);
        var unknown = await f.Ctl.RunAsync("create", "deployment", "gguf", "--engine", "tensorrt");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("unknown engine \"tensorrt\"", unknown.Stderr);
        var addons = await f.Api.PostAsync("/v1/accounts/default/deployments", new { baseModel = "accounts/default/models/gguf", engine = "llama-server", enableAddons = true });
        Assert.Equal(HttpStatusCode.BadRequest, addons.Status);
        Assert.Contains("llama-server cannot load addons at runtime", addons.Message);
        var badFlag = await f.Ctl.RunAsync("create", "deployment", "gguf", "--engine", "VLLM!");
        Assert.Equal(2, badFlag.ExitCode);
        Assert.Contains("--engine", badFlag.Stderr);
    }

    [Fact]
    public async Task An_engine_that_exits_at_once_or_never_answers_its_health_path_fails_with_its_command_and_last_log_lines()
    {
        Assert.Equal(HttpStatusCode.OK, (await Steps.ImportAsync(f.Api, "default", "broken", TestModels.Tiny())).Status);
        foreach (var (id, engine) in new[] { ("exits", "exits-at-once"), ("silent", "never-healthy") })
        {
            var created = await f.Api.PostAsync($"/v1/accounts/default/deployments?deploymentId={id}",
                new { baseModel = "accounts/default/models/broken", engine, minReplicaCount = 1 });
            Assert.True(created.Status == HttpStatusCode.OK, created.ToString());
        }

        var exits = await WaitAsync("exits", d => d.State() == "FAILED", "the exiting engine FAILED");
        var message = exits.Body.GetProperty("status").GetProperty("message").GetString()!;
        Assert.Contains("fatal: no CUDA-capable device is detected", message);
        Assert.Contains("engine command: /bin/sh -c", message);
        Assert.Contains(Events(exits), e => e.StartsWith("ReplicaExited", StringComparison.Ordinal) && e.Contains("code 3") && e.Contains("no CUDA-capable device"));

        var silent = await WaitAsync("silent", d => d.State() == "FAILED", "the silent engine FAILED");
        Assert.True(Events(silent).Any(e => e.StartsWith("ReplicaTimedOut", StringComparison.Ordinal) && e.Contains("not ready within 2s")
            && e.Contains("engine command: llama-server --model") && e.Contains("listening on")), string.Join("\n", Events(silent)));
        // Their slots are free again: no process of theirs is left.
        await Wait.UntilAsync(() => !Processes.WithArgumentContaining("broken.gguf").Any(), Long, "the failed engines' processes gone");
    }

    [Fact]
    public async Task The_engines_a_deployment_may_name_are_listed_with_what_each_serves_and_no_secret()
    {
        var listed = await f.Api.GetAsync("/v1/engines");
        Assert.True(listed.Status == HttpStatusCode.OK, listed.ToString());
        Assert.Equal("kiln", listed.Str("defaultEngine"));
        var engines = listed.Body.GetProperty("engines").EnumerateArray().ToDictionary(e => e.GetProperty("name").GetString()!);
        Assert.Equal(["exits-at-once", "kiln", "kiln-template", "llama-server", "never-healthy", "sglang", "vllm"], engines.Keys.Order());
        Assert.Equal(["HF_SAFETENSORS"], engines["vllm"].GetProperty("modelFormats").EnumerateArray().Select(v => v.GetString()));
        Assert.True(engines["vllm"].GetProperty("addons").GetProperty("supported").GetBoolean());
        Assert.Contains("vllm:num_requests_running", engines["vllm"].GetProperty("metrics").GetProperty("running").EnumerateArray().Select(v => v.GetString()));
        Assert.False(engines["llama-server"].GetProperty("addons").GetProperty("supported").GetBoolean());
        Assert.False(string.IsNullOrEmpty(engines["llama-server"].GetProperty("addons").GetProperty("reason").GetString()));
        Assert.True(engines["kiln"].GetProperty("speculation").GetBoolean());
        Assert.False(engines["sglang"].GetProperty("speculation").GetBoolean());
        Assert.True(engines["sglang"].GetProperty("builtIn").GetBoolean());
        Assert.False(engines["never-healthy"].GetProperty("builtIn").GetBoolean());
        Assert.Equal("/never-ready", engines["never-healthy"].GetProperty("healthPath").GetString());
        Assert.Equal(["HF_TOKEN"], engines["never-healthy"].GetProperty("environment").EnumerateArray().Select(v => v.GetString()));
        Assert.DoesNotContain("hf-secret-value", listed.ToString());

        var text = await f.Ctl.OkAsync("list", "engines");
        Assert.Contains("kiln (default)", text);
        Assert.Matches(@"(?m)^vllm\s+HF_SAFETENSORS\s+yes\s+no\s+vllm serve \{model\}", text);
        Assert.Matches(@"(?m)^llama-server\s+GGUF\s+no\s+no\s+llama-server", text);
        Assert.DoesNotContain("hf-secret-value", await f.Ctl.OkAsync("list", "engines", "-o", "json"));
    }
}

/// <summary>A configuration the server must refuse before it starts.</summary>
public class EngineConfigStartupTests
{
    [Fact]
    public async Task An_unknown_placeholder_in_a_profile_stops_the_server_with_one_clear_error()
    {
        var dir = Directory.CreateTempSubdirectory("kiln-config-").FullName;
        var config = Path.Combine(dir, "kiln.json");
        File.WriteAllText(config, """{"engines": {"vllm": {"command": ["vllm", "serve", "{model}", "--gpus", "{gpus}"]}}}""");
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => KilnServer.StartAsync("--config", config));
        Assert.Contains("exited with 2", e.Message);
        Assert.Contains($"kiln server: --config {config}: engines.vllm.command: argument \"{{gpus}}\": unknown placeholder {{gpus}}", e.Message);
        Directory.Delete(dir, recursive: true);
    }
}
