using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Kiln.ControlPlane.Tests.Slurm;

/// <summary>
/// A real <c>kiln server --runtime slurm</c> on the one-node cluster of <c>scripts/slurm-up.sh</c>
/// (6 fake GPUs), running real <c>kiln replica</c> jobs: scaling, GPU placement, model downloads into
/// the node's cache, a cancelled job, a slurmctld restart and a crash of the server itself.
/// </summary>
public sealed class SlurmRuntimeEndToEndTests
{
    private const string Path = "/v1/accounts/default/deployments/web";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [SlurmFact]
    public async Task A_world_size_2_deployment_scales_0_1_3_0_as_jobs_with_their_own_gpus_downloads_its_model_once_and_survives_scancel_slurmctld_and_a_server_crash()
    {
        await SlurmCluster.EnsureUpAsync();
        // No shared model path: replicas download the model into the node's cache (the cluster's one node is this machine).
        using var server = await KilnServer.StartAsync("--runtime", "slurm", "--autoscale-interval", "250ms",
            "--model-distribution", "download", "--model-cache", $"{KilnServer.DataDirPlaceholder}/node-cache");
        var prefix = "kiln-" + File.ReadAllText(System.IO.Path.Combine(server.DataDir, "slurm", "installation-id")).Trim();
        try
        {
            using var api = new Api(server.BaseUri, server.AdminKey);
            using var inference = new Inference(server.BaseUri, server.AdminKey);
            var model = TestModels.Stories260K();
            Assert.Equal("READY", (await Steps.ImportAsync(api, "default", "stories", model)).State());
            var cached = System.IO.Path.Combine(server.DataDir, "node-cache", "sha256", Convert.ToHexStringLower(SHA256.HashData(model)) + ".gguf");
            var created = await api.PostAsync("/v1/accounts/default/deployments?deploymentId=web", new
            {
                baseModel = "accounts/default/models/stories",
                acceleratorType = "NVIDIA_A100_80GB",
                acceleratorCount = 2,
                minReplicaCount = 0,
                maxReplicaCount = 3,
                autoscalingPolicy = new { scaleDownWindow = "1s", scaleToZeroWindow = "1s" },
            });
            Assert.True(created.Status == HttpStatusCode.OK, created.ToString());

            // 0: no job (a new deployment starts one, idle for the 1s scale-to-zero window). Then a
            // completion wakes it: 1 job, holding 2 GPUs the replica sees; a long window keeps it.
            await WaitForAsync(api, r => r.State() == "READY" && r.Int("desiredReplicaCount") == 0 && SlurmReplica.Of(r).Count == 0, "READY at zero");
            await Wait.UntilAsync(async () => (await SlurmCluster.LiveJobsAsync(prefix)).Count == 0, Timeout, "no job at zero");
            Assert.Equal(HttpStatusCode.OK, (await api.PatchAsync(Path, new { autoscalingPolicy = new { scaleDownWindow = "3600s", scaleToZeroWindow = "3600s" } })).Status);
            await CompleteAsync(inference);
            var one = await WaitForAsync(api, r => SlurmReplica.Ready(r).Count == 1, "one ready replica");
            var first = Assert.Single(SlurmReplica.Ready(one));
            Assert.Equal([first.JobId], (await SlurmCluster.LiveJobsAsync(prefix)).Select(j => j.Id));
            await AssertOwnGpusAsync([first]);
            // The first replica downloaded the model into the node's cache; this one found it there.
            Assert.Equal(model, await File.ReadAllBytesAsync(cached));
            var cachedAt = File.GetLastWriteTimeUtc(cached);

            // 1 -> 3: three jobs, six distinct GPUs; completions through the gateway.
            Assert.Equal(HttpStatusCode.OK, (await api.PatchAsync(Path, new { minReplicaCount = 3, maxReplicaCount = 3 })).Status);
            var three = await WaitForAsync(api, r => SlurmReplica.Ready(r).Count == 3 && r.State() == "READY", "three ready replicas");
            var jobs = SlurmReplica.Ready(three).Select(r => r.JobId!).Order().ToList();
            Assert.Equal(jobs, (await SlurmCluster.LiveJobsAsync(prefix)).Select(j => j.Id).Order());
            await AssertOwnGpusAsync(SlurmReplica.Ready(three));
            await CompleteAsync(inference);

            // scancel of one job: the replica fails with Slurm's word for it and a new job replaces it.
            var victim = SlurmReplica.Ready(three)[1];
            await SlurmCluster.CancelAsync(victim.JobId!);
            await WaitForAsync(api, r => Events(r).Any(e => e.Type == "ReplicaExited" && e.Message.Contains($"Slurm job {victim.JobId} CANCELLED", StringComparison.Ordinal)),
                "the cancelled job's exit");
            var replaced = await WaitForAsync(api,
                r => SlurmReplica.Ready(r).Count == 3 && !SlurmReplica.Ready(r).Any(x => x.JobId == victim.JobId), "a replacement job");
            jobs = SlurmReplica.Ready(replaced).Select(r => r.JobId!).Order().ToList();
            Assert.Equal(jobs, (await SlurmCluster.LiveJobsAsync(prefix)).Select(j => j.Id).Order());
            await AssertOwnGpusAsync(SlurmReplica.Ready(replaced));
            await CompleteAsync(inference);

            // slurmctld restarts: nothing lost, nothing duplicated, nothing restarted.
            await SlurmCluster.RestartControllerAsync();
            await Task.Delay(2000); // several reconcile passes against the restarted controller
            var afterRestart = await WaitForAsync(api, r => SlurmReplica.Ready(r).Count == 3, "three ready replicas after a slurmctld restart");
            Assert.Equal(jobs, SlurmReplica.Ready(afterRestart).Select(r => r.JobId!).Order());
            Assert.Equal(jobs, (await SlurmCluster.LiveJobsAsync(prefix)).Select(j => j.Id).Order());
            await CompleteAsync(inference);

            // Six replica jobs so far, one download: the control plane sent the file once, whole, and
            // every replica serving now opened the node's cached copy, which was never rewritten.
            Assert.Equal(model.Length, Downloads(server.Output).Sum());
            Assert.Equal(cachedAt, File.GetLastWriteTimeUtc(cached));
            foreach (var r in SlurmReplica.Ready(afterRestart))
            {
                var log = await File.ReadAllTextAsync(System.IO.Path.Combine(server.DataDir, "slurm", "default", "web", r.Id + ".log"));
                Assert.Contains($"Model file ready at {cached}", log);
            }

            // kill -9 of the server: its jobs keep serving and are adopted on restart; a stray job of
            // this installation (no replica record wants it) is cancelled, and no job is added.
            server.Crash();
            var stray = await SubmitStrayAsync(prefix, server.DataDir);
            await server.RestartAsync();
            var adopted = await WaitForAsync(api, r => SlurmReplica.Ready(r).Count == 3 && Events(r).Count(e => e.Type == "ReplicaAdopted") >= 3, "adoption");
            Assert.Equal(jobs, SlurmReplica.Ready(adopted).Select(r => r.JobId!).Order());
            await Wait.UntilAsync(async () => (await SlurmCluster.LiveJobsAsync(prefix)).All(j => j.Id != stray), Timeout, "the stray job to be cancelled");
            Assert.Equal(jobs, (await SlurmCluster.LiveJobsAsync(prefix)).Select(j => j.Id).Order());
            await CompleteAsync(inference);

            // 3 -> 0: every job drained and gone.
            Assert.Equal(HttpStatusCode.OK, (await api.PatchAsync(Path, new
            {
                minReplicaCount = 0,
                autoscalingPolicy = new { scaleDownWindow = "1s", scaleToZeroWindow = "1s" },
            })).Status);
            await WaitForAsync(api, r => r.Int("desiredReplicaCount") == 0 && SlurmReplica.Of(r).Count == 0, "scale to zero");
            await Wait.UntilAsync(async () => (await SlurmCluster.LiveJobsAsync(prefix)).Count == 0, Timeout, "no job left");
        }
        finally
        {
            await SlurmCluster.CancelAllAsync(prefix);
        }
    }

    [SlurmFact]
    public async Task An_sglang_deployment_runs_as_a_job_on_a_port_its_node_picks_with_its_gpus_and_is_adopted_after_a_server_crash()
    {
        await SlurmCluster.EnsureUpAsync();
        var scratch = Directory.CreateTempSubdirectory("kiln-slurm-engine-").FullName;
        // sbatch exports the server's environment into the job, so the stand-in engines on PATH reach the node.
        using var server = await KilnServer.StartAsync(new Dictionary<string, string> { ["PATH"] = EngineFixture.InstallStandIns(scratch) },
            "--runtime", "slurm", "--autoscale-interval", "250ms", "--model-distribution", "shared", "--model-share", $"{KilnServer.DataDirPlaceholder}/share");
        var prefix = "kiln-" + File.ReadAllText(System.IO.Path.Combine(server.DataDir, "slurm", "installation-id")).Trim();
        const string path = "/v1/accounts/default/deployments/sg";
        try
        {
            using var api = new Api(server.BaseUri, server.AdminKey);
            using var inference = new Inference(server.BaseUri, server.AdminKey);
            var ctl = new Kilnctl(server.BaseUri, server.AdminKey, Directory.CreateDirectory(System.IO.Path.Combine(scratch, "kilnctl")).FullName);
            var import = await ctl.RunAsync("import", "model", "tiny-hf", "--from", EngineFixture.HfModel(scratch, "tiny-hf"));
            Assert.True(import.ExitCode == 0, import.ToString());
            var created = await api.PostAsync("/v1/accounts/default/deployments?deploymentId=sg", new
            {
                baseModel = "accounts/default/models/tiny-hf",
                engine = "sglang",
                acceleratorType = "NVIDIA_A100_80GB",
                acceleratorCount = 2,
                minReplicaCount = 1,
            });
            Assert.True(created.Status == HttpStatusCode.OK, created.ToString());
            var ready = await WaitForAsync(api, r => r.State() == "READY" && SlurmReplica.Ready(r).Count == 1, "a READY sglang job", path);
            var replica = Assert.Single(SlurmReplica.Ready(ready));
            Assert.Contains(Events(ready), e => e.Type == "ReplicaStarted" && e.Message.Contains("with engine sglang: python3 -m sglang.launch_server")
                && e.Message.Contains("--tp-size 2") && e.Message.Contains("--port {port}"));
            var runner = Assert.Single(Processes.WithArgumentContaining(replica.Id), p => Processes.ArgumentAfter(p, "--host") is not null);
            Assert.Equal(2, Environ(runner).GetValueOrDefault("CUDA_VISIBLE_DEVICES")?.Split(',').Length);
            await ChatAsync(inference);

            // kill -9 of the server: the job keeps serving, and the next server adopts it with the engine's health path.
            server.Crash();
            await server.RestartAsync();
            var adopted = await WaitForAsync(api, r => SlurmReplica.Ready(r).Count == 1 && Events(r).Any(e => e.Type == "ReplicaAdopted"), "adoption", path);
            Assert.Equal(replica.JobId, Assert.Single(SlurmReplica.Ready(adopted)).JobId);
            await ChatAsync(inference);

            Assert.Equal(HttpStatusCode.OK, (await api.DeleteAsync(path)).Status);
            await Wait.UntilAsync(async () => (await SlurmCluster.LiveJobsAsync(prefix)).Count == 0, Timeout, "the engine's job gone");
        }
        finally
        {
            await SlurmCluster.CancelAllAsync(prefix);
            try { Directory.Delete(scratch, recursive: true); } catch (IOException) { }
        }

        static async Task ChatAsync(Inference inference)
        {
            var (status, body, _) = await inference.PostAsync("/v1/chat/completions", new
            {
                model = "accounts/default/models/tiny-hf",
                messages = new[] { new { role = "user", content = "hi" } },
                max_tokens = 2,
            });
            Assert.True(status == HttpStatusCode.OK, body.ToString());
            Assert.Equal(" w0 w1", body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        }
    }

    [SlurmFact]
    public async Task Jobs_the_scheduler_cannot_place_are_pending_with_its_reason_and_a_replica_larger_than_any_node_is_refused()
    {
        await SlurmCluster.EnsureUpAsync();
        Assert.True(await SlurmCluster.NodeGpusAsync() == 6, "the cluster of scripts/slurm-up.sh has 6 fake GPUs; run scripts/slurm-down.sh and scripts/slurm-up.sh again");
        using var server = await KilnServer.StartAsync("--runtime", "slurm");
        var prefix = "kiln-" + File.ReadAllText(System.IO.Path.Combine(server.DataDir, "slurm", "installation-id")).Trim();
        try
        {
            using var api = new Api(server.BaseUri, server.AdminKey);
            await Steps.ImportAsync(api, "default", "stories", TestModels.Stories260K());

            // More GPUs than the node has (8 of 6, untyped gres: any GPU type): refused at create naming what exists, and nothing is submitted.
            var huge = await api.PostAsync("/v1/accounts/default/deployments?deploymentId=huge", new
            {
                baseModel = "accounts/default/models/stories",
                acceleratorType = "NVIDIA_A100_80GB",
                acceleratorCount = 8,
                minReplicaCount = 1,
                maxReplicaCount = 1,
            });
            Assert.Equal(HttpStatusCode.BadRequest, huge.Status);
            Assert.Contains("no node holds 8 x NVIDIA_A100_80GB (at most 6 on one node); available: ", huge.Message);
            Assert.Contains(": 6 x GPU, ", huge.Message);
            Assert.Empty(await SlurmCluster.LiveJobsAsync(prefix));

            // Two replicas of 4 GPUs on a 6-GPU node: one runs, the other waits for Resources, PENDING and not failed.
            await api.PostAsync("/v1/accounts/default/deployments?deploymentId=wide", new
            {
                baseModel = "accounts/default/models/stories",
                acceleratorType = "NVIDIA_A100_80GB",
                acceleratorCount = 4,
                minReplicaCount = 2,
                maxReplicaCount = 2,
            });
            var wide = await WaitForAsync(api,
                r => SlurmReplica.Ready(r).Count == 1 && SlurmReplica.Of(r).Any(x => x.Phase == "PENDING" && x.PendingReason == "queued by Slurm (Resources)"),
                "one ready and one queued replica", "/v1/accounts/default/deployments/wide");
            Assert.Contains("1 pending (queued by Slurm (Resources))", wide.Body.GetProperty("status").GetProperty("message").GetString());
            Assert.Equal(1, wide.Body.GetProperty("replicaStats").GetProperty("pendingSchedulingReplicaCount").GetInt32());
            await Task.Delay(1500);
            var still = await api.GetAsync("/v1/accounts/default/deployments/wide");
            Assert.Equal(SlurmReplica.Of(wide).Select(r => r.JobId), SlurmReplica.Of(still).Select(r => r.JobId));
            Assert.DoesNotContain(Events(still), e => e.Type is "ReplicaExited" or "ReplicaTimedOut" or "ReplicaFailed");
            Assert.Equal(2, (await SlurmCluster.LiveJobsAsync(prefix)).Count);

            // Deleting cancels the queued job as well as the running one.
            await api.DeleteAsync("/v1/accounts/default/deployments/wide");
            await Wait.UntilAsync(async () => (await SlurmCluster.LiveJobsAsync(prefix)).Count == 0, Timeout, "both jobs cancelled");
        }
        finally
        {
            await SlurmCluster.CancelAllAsync(prefix);
        }
    }

    [SlurmFact]
    public async Task A_partition_that_does_not_exist_stops_the_server_with_one_clear_error()
    {
        await SlurmCluster.EnsureUpAsync();
        var dir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "kiln-cp-tests", Guid.NewGuid().ToString("N")[..12]);
        try
        {
            var (code, stderr) = await RunKilnAsync("server", "--runtime", "slurm", "--slurm-partition", "nowhere", "--data-dir", dir, "--port", FreePort.Next().ToString());
            Assert.Equal(1, code);
            Assert.Equal("kiln server: --runtime slurm: cannot use the Slurm cluster: partition nowhere has no nodes", stderr.Trim());
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    [Theory]
    [InlineData(new[] { "--runtime", "kubernetes" }, "--runtime: must be local or slurm, got 'kubernetes'")]
    [InlineData(new[] { "--slurm-partition", "gpu" }, "--slurm-partition: only applies with --runtime slurm")]
    [InlineData(new[] { "--runtime", "slurm", "--slurm-extra-args", "--job-name=x" }, "--slurm-extra-args: --job-name is set by Kiln for each replica and cannot be given")]
    [InlineData(new[] { "--runtime", "slurm", "--slurm-extra-args", "gpu" }, "--slurm-extra-args: must start with an sbatch option, got 'gpu'")]
    [InlineData(new[] { "--runtime", "slurm", "--slurm-account", "a b" }, "--slurm-account: must be a single non-empty word, got 'a b'")]
    public async Task Bad_runtime_flags_are_refused_naming_the_flag_with_exit_code_2(string[] args, string message)
    {
        var (code, stderr) = await RunKilnAsync(["server", "--data-dir", "/nonexistent/kiln", .. args]);
        Assert.Equal(2, code);
        Assert.Contains($"kiln: {message}", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    /// <summary>The bytes of each model download the server logged.</summary>
    private static List<long> Downloads(string serverOutput) =>
        [.. serverOutput.Split('\n').Where(l => l.Contains("model download: sent", StringComparison.Ordinal))
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("State").GetProperty("Sent").GetInt64())];

    private static async Task CompleteAsync(Inference inference)
    {
        var (status, body, _) = await inference.PostAsync("/v1/completions", new { model = "accounts/default/models/stories", prompt = "Once upon a time", max_tokens = 8, temperature = 0 });
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("choices")[0].GetProperty("text").GetString()));
    }

    /// <summary>Each job holds two GPUs no other job holds, and its replica process sees exactly those in CUDA_VISIBLE_DEVICES.</summary>
    private static async Task AssertOwnGpusAsync(IReadOnlyList<SlurmReplica> replicas)
    {
        var all = new List<int>();
        foreach (var r in replicas)
        {
            var gpus = await SlurmCluster.GpuIndicesAsync(r.JobId!);
            Assert.Equal(2, gpus.Count);
            all.AddRange(gpus);
            var pid = Assert.Single(Processes.WithArgumentContaining(r.Id), p => Processes.ArgumentAfter(p, "--replica-id") == r.Id);
            Assert.Equal(string.Join(',', gpus), Environ(pid).GetValueOrDefault("CUDA_VISIBLE_DEVICES"));
        }
        Assert.Equal(all.Count, all.Distinct().Count());
    }

    private static Dictionary<string, string> Environ(int pid) =>
        File.ReadAllText($"/proc/{pid}/environ").Split('\0', StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e.Split('=', 2)).Where(kv => kv.Length == 2).GroupBy(kv => kv[0]).ToDictionary(g => g.Key, g => g.Last()[1]);

    /// <summary>A job named like one of this installation's replicas that no record wants.</summary>
    private static async Task<string> SubmitStrayAsync(string prefix, string dataDir)
    {
        var psi = new ProcessStartInfo("sbatch") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--parsable", $"--job-name={prefix}.default.web.r-stray", $"--output={dataDir}/stray.log", "--wrap=exec sleep 600" })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var id = (await p.StandardOutput.ReadToEndAsync()).Trim();
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, await p.StandardError.ReadToEndAsync());
        return id;
    }

    private static List<(string Type, string Message)> Events(Api.Reply r) =>
        [.. r.Body.GetProperty("events").EnumerateArray().Select(e => (e.GetProperty("type").GetString()!, e.GetProperty("message").GetString()!))];

    private static async Task<Api.Reply> WaitForAsync(Api api, Func<Api.Reply, bool> done, string what, string path = Path)
    {
        Api.Reply? last = null;
        try
        {
            return await Wait.ForAsync(async () => (last = await api.GetAsync(path)) is var r && done(r) ? r : null, Timeout, what);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}; last: {last}");
        }
    }

    private static async Task<(int Code, string Stderr)> RunKilnAsync(params string[] args)
    {
        var psi = new ProcessStartInfo(System.IO.Path.Combine(AppContext.BaseDirectory, "kiln")) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        await p.StandardOutput.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(cts.Token);
        return (p.ExitCode, await stderr);
    }
}
