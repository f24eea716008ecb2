using Kiln.Core.Accelerators;
using Kiln.Core.Deployments;
using Kiln.Runtime;
using Kiln.Runtime.Local;
using Kiln.Runtime.Slurm;

namespace Kiln.ControlPlane.Tests.Slurm;

/// <summary>The Slurm runtime's pure parts: what it reads from squeue and sinfo, and what it hands sbatch.</summary>
public sealed class SlurmParsingTests
{
    [Fact]
    public void Squeue_lines_parse_with_a_comment_that_holds_the_separator()
    {
        var jobs = SqueueFormat.Parse(
            "12|RUNNING|None|node7|kiln-ab.acme.web.r-1|{\"model\":\"/m|x.gguf\"}\n" +
            "13|PENDING|Resources||kiln-ab.acme.web.r-2|(null)\n" +
            "\n" +
            "garbage\n" +
            "14|CANCELLED by 0|None|node7|other|\n");
        Assert.Equal(
        [
            new SlurmJob("12", "RUNNING", "None", "node7", "kiln-ab.acme.web.r-1", "{\"model\":\"/m|x.gguf\"}"),
            new SlurmJob("13", "PENDING", "Resources", "", "kiln-ab.acme.web.r-2", null),
            new SlurmJob("14", "CANCELLED by 0", "None", "node7", "other", null),
        ], jobs);
    }

    [Theory]
    [InlineData("PENDING", SlurmJobPhase.Waiting)]
    [InlineData("CONFIGURING", SlurmJobPhase.Waiting)]
    [InlineData("SUSPENDED", SlurmJobPhase.Waiting)]
    [InlineData("REQUEUE_HOLD", SlurmJobPhase.Waiting)]
    [InlineData("RUNNING", SlurmJobPhase.Running)]
    [InlineData("SIGNALING", SlurmJobPhase.Running)]
    [InlineData("SOME_FUTURE_STATE", SlurmJobPhase.Running)]
    [InlineData("COMPLETING", SlurmJobPhase.Running)]
    [InlineData("COMPLETED", SlurmJobPhase.Ended)]
    [InlineData("FAILED", SlurmJobPhase.Ended)]
    [InlineData("CANCELLED", SlurmJobPhase.Ended)]
    [InlineData("CANCELLED by 0", SlurmJobPhase.Ended)]
    [InlineData("NODE_FAIL", SlurmJobPhase.Ended)]
    [InlineData("PREEMPTED", SlurmJobPhase.Ended)]
    [InlineData("TIMEOUT", SlurmJobPhase.Ended)]
    [InlineData("OUT_OF_MEMORY", SlurmJobPhase.Ended)]
    [InlineData("BOOT_FAIL", SlurmJobPhase.Ended)]
    [InlineData("DEADLINE", SlurmJobPhase.Ended)]
    public void Job_states_map_onto_replica_phases(string state, SlurmJobPhase phase) => Assert.Equal(phase, SlurmJobStates.Phase(state));

    [Theory]
    [InlineData("PENDING", "Resources", "queued by Slurm (Resources)")]
    [InlineData("PENDING", "Priority", "queued by Slurm (Priority)")]
    [InlineData("PENDING", "None", "queued by Slurm")]
    [InlineData("CONFIGURING", "None", "Slurm is configuring its node")]
    [InlineData("SUSPENDED", "None", "suspended by Slurm")]
    [InlineData("REQUEUE_HOLD", "JobHeldAdmin", "held by Slurm (REQUEUE_HOLD) (JobHeldAdmin)")]
    public void Waiting_jobs_say_why(string state, string reason, string expected) => Assert.Equal(expected, SlurmJobStates.WaitReason(state, reason));

    [Theory]
    [InlineData("TIMEOUT", "None", "Slurm job 7 TIMEOUT")]
    [InlineData("FAILED", "NonZeroExitCode", "Slurm job 7 FAILED (NonZeroExitCode)")]
    [InlineData("CANCELLED by 0", "None", "Slurm job 7 CANCELLED")]
    [InlineData("NODE_FAIL", "(null)", "Slurm job 7 NODE_FAIL")]
    public void Ended_jobs_say_how(string state, string reason, string expected) => Assert.Equal(expected, SlurmJobStates.Ending("7", state, reason));

    [Theory]
    [InlineData("gpu:8", 8)]
    [InlineData("gpu:a100:4(S:0-1)", 4)]
    [InlineData("gpu:a100:2(S:0),gpu:v100:2(S:1)", 4)]
    [InlineData("gpu:a100:4(S:0-1),mps:400", 4)]
    [InlineData("mps:100", 0)]
    [InlineData("(null)", 0)]
    [InlineData("", 0)]
    public void Gres_lists_count_gpus(string gres, int gpus) => Assert.Equal(gpus, SinfoFormat.Gpus(gres));

    [Fact]
    public void Sinfo_lists_each_node_once_with_its_address()
    {
        var nodes = SinfoFormat.Parse("vm|127.0.0.1|8|gpu:8\nvm|127.0.0.1|8|gpu:8\nn2||64+|(null)\nbad line\n");
        Assert.Equal([("vm", "127.0.0.1", 8, 8), ("n2", "n2", 64, 0)], nodes.Select(n => (n.Name, n.Address, n.Cpus, n.Gpus)));
        Assert.Equal(new Dictionary<string, int> { [""] = 8 }, nodes[0].GpusByType);
        Assert.Empty(nodes[1].GpusByType);
    }

    [Fact]
    public void Typed_gres_become_kiln_types_and_untyped_gpus_take_any_gpu_type()
    {
        Assert.Equal(new Dictionary<string, int> { ["h100"] = 4, ["a100_80gb"] = 2 }, SinfoFormat.GpusByType("gpu:h100:4(S:0-1),gpu:a100_80gb:2,mps:100"));
        var typed = new SlurmNode("g1", "10.0.0.1", 64, 8) { GpusByType = new Dictionary<string, int> { ["h100"] = 4, ["a100_80gb"] = 2, ["v100"] = 2 } };
        var untyped = new SlurmNode("g2", "10.0.0.2", 32, 6) { GpusByType = new Dictionary<string, int> { [""] = 6 } };
        var held = new ReplicaHolding("acme", "web", "r-1", 2, []);
        var pools = SlurmInventory.Node(typed, [(held, AcceleratorType.NvidiaH100_80GB)]).Pools;
        // A gres type no rule knows (v100) counts as GPUs of no known type.
        Assert.Equal([(AcceleratorType.NvidiaA100_80GB, 2, 2), (AcceleratorType.NvidiaH100_80GB, 4, 2), ((AcceleratorType?)null, 2, 2), (AcceleratorType.Cpu, 64, 64)],
            pools.Select(p => (p.Type, p.Total, p.Free)));
        Assert.Equal([held], pools[1].Holders);
        var inventory = new AcceleratorInventory("sinfo", [SlurmInventory.Node(typed, []), SlurmInventory.Node(untyped, [])], []);
        Assert.Null(Placement.Check(inventory, AcceleratorType.NvidiaH200_141GB, 6));
        Assert.NotNull(Placement.Check(inventory, AcceleratorType.NvidiaH200_141GB, 8));
        Assert.Equal("h100", SlurmInventory.GresType([typed, untyped], AcceleratorType.NvidiaH100_80GB));
        Assert.Null(SlurmInventory.GresType([typed, untyped], AcceleratorType.NvidiaL4_24GB));
    }

    [Fact]
    public void Job_names_identify_installation_account_deployment_and_replica()
    {
        var replica = new ReplicaRef("acme", "web", "r-abc");
        var name = SlurmJobName.Format("kiln-1f2e", replica);
        Assert.Equal("kiln-1f2e.acme.web.r-abc", name);
        Assert.Equal(replica, SlurmJobName.Parse("kiln-1f2e", name));
        Assert.Null(SlurmJobName.Parse("kiln-other", name));
        Assert.Null(SlurmJobName.Parse("kiln-1f2e", "kiln-1f2e.acme.web"));
        Assert.Null(SlurmJobName.Parse("kiln-1f2e", "kiln-1f2e..web.r-abc"));
        Assert.Null(SlurmJobName.Parse("kiln-1f2e", "kiln-1f2eX.acme.web.r-abc"));
    }

    [Theory]
    [InlineData("10.0.0.7:41234", "10.0.0.7", 41234)]
    [InlineData("0.0.0.0:80", "0.0.0.0", 80)]
    [InlineData("[::]:8080", "::", 8080)]
    public void Endpoint_files_parse(string text, string host, int port) => Assert.Equal((host, port), EndpointText.Parse(text));

    [Theory]
    [InlineData("")]
    [InlineData("host")]
    [InlineData(":80")]
    [InlineData("h:0")]
    [InlineData("h:70000")]
    [InlineData("h:8o")]
    public void Malformed_endpoint_files_are_not_read_yet(string text) => Assert.Null(EndpointText.Parse(text));

    [Theory]
    [InlineData("1234\n", "1234")]
    [InlineData("1234;cluster\n", "1234")]
    [InlineData("", null)]
    [InlineData("Submitted batch job 12", null)]
    public void Sbatch_parsable_output_gives_the_job_id(string output, string? id) => Assert.Equal(id, SbatchArguments.JobId(output));

    [Fact]
    public void Job_comments_carry_the_spec_a_job_runs()
    {
        var comment = JobComment.Format("/models/it's a|b.gguf", 2, Precision.Fp16);
        Assert.Equal(("/models/it's a|b.gguf", 2, Precision.Fp16), JobComment.Parse(comment));
        Assert.Null(JobComment.Parse(null));
        Assert.Null(JobComment.Parse("{\"model\":1}"));
        Assert.Null(JobComment.Parse("{not json"));
        Assert.Null(JobComment.Parse("a note"));
    }

    [Theory]
    [InlineData(AcceleratorType.NvidiaA100_80GB, null, "--gres=gpu:2")]
    [InlineData(AcceleratorType.NvidiaH100_80GB, "h100", "--gres=gpu:h100:2")]
    [InlineData(AcceleratorType.Cpu, null, "--cpus-per-task=2")]
    public void Sbatch_asks_for_gpus_or_cpus_and_wraps_an_exec_of_the_replica(AcceleratorType type, string? gresType, string resource)
    {
        var options = new SlurmOptions { RunDir = "/shared/kiln", Partition = "gpu", Account = "ml", ExtraArgs = ["--qos=serving"] };
        var launch = new ReplicaLaunch(new ReplicaRef("acme", "web", "r-1"), "/models/it's.gguf", "accounts/acme/models/m", 2, Precision.Fp32) { AcceleratorType = type };
        var args = SbatchArguments.Build(options, new ReplicaCommand("/opt/kiln/kiln", []), launch, "kiln-x.acme.web.r-1", "/shared/kiln/acme/web/r-1.log", "/shared/kiln/acme/web/r-1.endpoint.", gresType);
        Assert.Equal(
        [
            "--parsable", "--no-requeue", "--job-name=kiln-x.acme.web.r-1", "--nodes=1", "--ntasks=1", resource, "--partition=gpu", "--account=ml",
            "--output=/shared/kiln/acme/web/r-1.log", "--open-mode=append", "--chdir=/shared/kiln",
            "--comment={\"model\":\"/models/it\\u0027s.gguf\",\"worldSize\":2,\"precision\":\"f32\"}", "--qos=serving",
        ], args.SkipLast(1));
        Assert.Equal(
            "--wrap=exec '/opt/kiln/kiln' 'replica' '--model' '/models/it'\\''s.gguf' '--host' '0.0.0.0' '--port' '0' '--max-batch-size' '8' '--max-queue' '64' " +
            "'--threads' '2' '--kv-cache-type' 'f32' '--prefix-cache-mb' '256' '--model-name' 'accounts/acme/models/m' '--replica-id' 'r-1' '--endpoint-file' '/shared/kiln/acme/web/r-1.endpoint.'\"$SLURM_JOB_ID\"",
            args[^1]);
    }

    [Fact]
    public void A_shape_s_engine_settings_reach_the_wrapped_replica_and_another_engine_s_template()
    {
        var options = new SlurmOptions { RunDir = "/shared/kiln" };
        var launch = new ReplicaLaunch(new ReplicaRef("acme", "web", "r-1"), "/models/m.gguf", "accounts/acme/models/m", 2, Precision.Fp16)
        {
            MaxBatchSize = 16,
            ContextSize = 4096,
            PrefixCacheMb = 512,
        };
        var args = SbatchArguments.Build(options, new ReplicaCommand("/opt/kiln/kiln", []), launch, "kiln-x.acme.web.r-1", "/shared/kiln/acme/web/r-1.log", "/shared/kiln/acme/web/r-1.endpoint.");
        Assert.Contains("'--max-batch-size' '16' '--ctx-size' '4096'", args[^1]);
        Assert.Contains("'--kv-cache-type' 'f16' '--prefix-cache-mb' '512'", args[^1]);

        var vllm = EngineLaunch.For(Kiln.Core.Engines.EngineProfiles.BuiltIn.Single(p => p.Name == "vllm"), addons: false, [], maxBatch: 16, context: 4096)!;
        var line = (launch with { Engine = vllm }).CommandLine(new ReplicaCommand("/opt/kiln/kiln", []), "127.0.0.1", 9000);
        Assert.Equal(("16", "4096"), (line[line.ToList().IndexOf("--max-num-seqs") + 1], line[line.ToList().IndexOf("--max-model-len") + 1]));
    }

    [Fact]
    public void Another_engine_runs_under_kiln_engine_exec_with_its_port_left_for_the_node_and_its_health_path_in_the_comment()
    {
        var options = new SlurmOptions { RunDir = "/shared/kiln" };
        var profile = Kiln.Core.Engines.EngineProfiles.Sglang with
        {
            Environment = new Dictionary<string, string> { ["HF_HOME"] = "/shared/hf cache" },
        };
        var launch = new ReplicaLaunch(new ReplicaRef("acme", "web", "r-1"), "/shared/models/acme/m", "accounts/acme/models/m", 2, Precision.Fp16)
        {
            AcceleratorType = AcceleratorType.NvidiaH100_80GB,
            Engine = EngineLaunch.For(profile, addons: false, ["--mem-fraction-static", "0.8"]),
        };
        var args = SbatchArguments.Build(options, new ReplicaCommand("/opt/kiln/kiln", []), launch, "kiln-x.acme.web.r-1", "/shared/kiln/acme/web/r-1.log", "/shared/kiln/acme/web/r-1.endpoint.");
        var wrap = args[^1];
        Assert.StartsWith("--wrap=exec env 'HF_HOME=/shared/hf cache' '/opt/kiln/kiln' 'engine-exec' '--endpoint-file' '/shared/kiln/acme/web/r-1.endpoint.'\"$SLURM_JOB_ID\" '--host' '0.0.0.0' '--' 'python3' '-m' 'sglang.launch_server'", wrap);
        Assert.Contains("'--port' '{port}'", wrap);
        Assert.Contains("'--tp-size' '2'", wrap);
        Assert.EndsWith("'--mem-fraction-static' '0.8'", wrap);
        Assert.Equal(("sglang", "/health"), JobComment.Engine(args.Single(a => a.StartsWith("--comment=", StringComparison.Ordinal))["--comment=".Length..]));
        Assert.Null(JobComment.Engine("{\"model\":\"/m.gguf\",\"worldSize\":1,\"precision\":\"f32\"}"));

        var download = new ModelDownload("http://cp:8420/x", new string('a', 64), "/var/tmp/cache", null, "t");
        var e = Assert.Throws<InvalidOperationException>(() => SbatchArguments.Build(options, new ReplicaCommand("/opt/kiln/kiln", []), launch with { Download = download },
            "kiln-x.acme.web.r-1", "/shared/kiln/acme/web/r-1.log", "/shared/kiln/acme/web/r-1.endpoint."));
        Assert.Contains("--model-distribution shared", e.Message);
    }

    [Fact]
    public void A_downloading_replica_gets_the_download_flags_and_its_token_only_in_sbatchs_environment()
    {
        var options = new SlurmOptions { RunDir = "/shared/kiln" };
        var sha = new string('a', 64);
        var download = new ModelDownload("http://cp:8420/v1/accounts/acme/models/m:download", sha, "/var/tmp/cache", 1L << 30, "secret-token");
        var launch = new ReplicaLaunch(new ReplicaRef("acme", "web", "r-1"), $"/var/tmp/cache/sha256/{sha}.gguf", "accounts/acme/models/m", 1, Precision.Fp32, download)
        {
            AcceleratorType = AcceleratorType.NvidiaA100_80GB,
        };
        var args = SbatchArguments.Build(options, new ReplicaCommand("/opt/kiln/kiln", []), launch, "kiln-x.acme.web.r-1", "/shared/kiln/acme/web/r-1.log", "/shared/kiln/acme/web/r-1.endpoint.");
        Assert.Contains($"'--model-url' 'http://cp:8420/v1/accounts/acme/models/m:download' '--model-sha256' '{sha}' '--model-cache' '/var/tmp/cache' '--model-cache-max-bytes' '1073741824'", args[^1]);
        Assert.DoesNotContain(args, a => a.Contains("secret-token", StringComparison.Ordinal));
        Assert.Equal(new Dictionary<string, string> { [Kiln.Core.Replicas.ReplicaArgs.ModelTokenVariable] = "secret-token" }, SbatchArguments.Environment(launch));
        Assert.Empty(SbatchArguments.Environment(launch with { Download = null }));
    }

    [Theory]
    [InlineData("--wrap=x", "--wrap")]
    [InlineData("-Jname", "-J")]
    [InlineData("--output=/tmp/x", "--output")]
    [InlineData("--qos=high", null)]
    [InlineData("--time=1:00", null)]
    [InlineData("--jobid=4", null)]
    public void Extra_arguments_may_not_override_what_Kiln_sets(string arg, string? reserved) => Assert.Equal(reserved, SbatchArguments.ReservedIn(arg));

    [Fact]
    public void Shell_quoting_keeps_every_word_literal() =>
        Assert.Equal("'a b'\\''$(x)'", ShellWords.Quote("a b'$(x)"));
}
