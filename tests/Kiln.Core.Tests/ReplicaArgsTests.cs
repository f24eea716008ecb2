using Kiln.Core.Deployments;
using Kiln.Core.Replicas;

namespace Kiln.Core.Tests;

public class ReplicaArgsTests
{
    // Before the cases that use it: static fields initialize in order.
    private static readonly string Sha = new('0', 64);

    private static readonly ReplicaArgs Full = new()
    {
        ModelPath = "/models/a b.gguf",
        Host = "0.0.0.0",
        Port = 0,
        MaxBatchSize = 16,
        ContextSize = 512,
        MaxQueue = 0,
        WorldSize = 4,
        KvCache = Precision.Fp16,
        PrefixCacheMb = 0,
        ModelName = "accounts/acme/models/m",
        ReplicaId = "r-123",
        Adapters = ["x=/a/x.gguf:0.5", "y=/a/y"],
        EndpointFile = "/run/kiln/r-123.7.endpoint",
    };

    private static readonly ReplicaArgs[] Cases =
    [
        Full,
        new ReplicaArgs { ModelPath = "m.gguf" },
        Full with { ContextSize = null, WorldSize = null, ModelName = null, ReplicaId = null, Adapters = [], KvCache = Precision.Fp32, EndpointFile = null, PrefixCacheMb = 1024 },
        Full with { ModelUrl = "http://cp:8420/v1/accounts/acme/models/m:download", ModelSha256 = Sha, ModelCache = "/var/cache/kiln", ModelCacheMaxBytes = 1L << 40 },
    ];

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Format_then_parse_gives_back_the_same_args(int @case)
    {
        var args = Cases[@case];
        var parsed = ReplicaArgs.Parse(args.Format());
        Assert.Equal(args, parsed);
        Assert.Equal(args.Format(), parsed.Format());
    }

    [Fact]
    public void Format_writes_world_size_as_threads_and_precision_as_kv_cache_type()
    {
        var argv = Full.Format();
        Assert.Equal(ReplicaArgs.Verb, argv[0]);
        Assert.Equal("4", After(argv, "--threads"));
        Assert.Equal("f16", After(argv, "--kv-cache-type"));
        Assert.Equal("0", After(argv, "--prefix-cache-mb"));
        Assert.Equal("r-123", After(argv, "--replica-id"));
        Assert.Equal("/run/kiln/r-123.7.endpoint", After(argv, "--endpoint-file"));
        Assert.DoesNotContain("--endpoint-file", new ReplicaArgs { ModelPath = "m" }.Format());
        Assert.Equal(2, argv.Count(a => a == "--lora"));
        Assert.DoesNotContain("--ctx-size", new ReplicaArgs { ModelPath = "m" }.Format());
    }

    [Fact]
    public void Parse_takes_defaults_equals_signs_and_repeated_flags()
    {
        var parsed = ReplicaArgs.Parse(["replica", "--model=m.gguf", "--port", "1", "--port", "2", "--lora", "a=x", "--lora=b=y"]);
        Assert.Equal(new ReplicaArgs { ModelPath = "m.gguf", Port = 2, Adapters = ["a=x", "b=y"] }, parsed);
        Assert.Equal(("127.0.0.1", 8, 64, Precision.Fp32), (parsed.Host, parsed.MaxBatchSize, parsed.MaxQueue, parsed.KvCache));
        Assert.Equal(ReplicaArgs.DefaultPrefixCacheMb, parsed.PrefixCacheMb);
    }

    [Theory]
    [InlineData(Precision.Fp32, "f32")]
    [InlineData(Precision.Fp16, "f16")]
    public void Kv_cache_type_names_map_both_ways(Precision precision, string name)
    {
        Assert.Equal(name, ReplicaArgs.KvCacheTypeName(precision));
        Assert.True(ReplicaArgs.TryParseKvCacheType(name, out var back));
        Assert.Equal(precision, back);
    }

    [Fact]
    public void Every_precision_has_a_kv_cache_type_name()
    {
        Assert.All(Enum.GetValues<Precision>(), p => Assert.NotEmpty(ReplicaArgs.KvCacheTypeName(p)));
        Assert.False(ReplicaArgs.TryParseKvCacheType("F16", out _));
    }

    [Theory]
    [InlineData("--port", "abc", "--port must be an integer, got 'abc'.")]
    [InlineData("--port", "70000", "--port must be between 0 and 65535, got 70000.")]
    [InlineData("--max-batch-size", "0", "--max-batch-size must be between 1 and 1024, got 0.")]
    [InlineData("--ctx-size", "-1", "--ctx-size must be at least 1, got -1.")]
    [InlineData("--max-queue", "x", "--max-queue must be an integer, got 'x'.")]
    [InlineData("--threads", "0", "--threads must be at least 1, got 0.")]
    [InlineData("--prefix-cache-mb", "-1", "--prefix-cache-mb must be between 0 and 1048576, got -1.")]
    [InlineData("--prefix-cache-mb", "lots", "--prefix-cache-mb must be an integer, got 'lots'.")]
    [InlineData("--kv-cache-type", "q4", "--kv-cache-type must be f32 or f16, got 'q4'.")]
    [InlineData("--host", "a b", "--host must be a host name or IP address, got 'a b'.")]
    [InlineData("--model-name", " ", "--model-name must not be empty.")]
    [InlineData("--model", " ", "--model must name a GGUF file.")]
    public void A_bad_value_is_an_error_naming_the_flag_and_value(string flag, string value, string message)
    {
        var e = Assert.Throws<ReplicaArgsException>(() => ReplicaArgs.Parse(["replica", "--model", "m.gguf", flag, value]));
        Assert.Equal([new ReplicaArgsError(flag, message)], e.Errors);
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Unknown_flags_missing_values_and_a_missing_model_are_errors()
    {
        Assert.False(ReplicaArgs.TryParse(["replica", "--bogus", "1", "--port"], out var parsed, out var errors));
        Assert.Null(parsed);
        Assert.Equal(["--bogus", "1", "--port", "--model"], errors.Select(e => e.Flag));
        Assert.Contains("--port needs a value.", errors.Select(e => e.Message));
        Assert.Throws<ReplicaArgsException>(() => ReplicaArgs.Parse(["--model", "m.gguf"]));
        Assert.Throws<ReplicaArgsException>(() => ReplicaArgs.Parse([]));
    }

    [Fact]
    public void A_process_command_line_yields_its_replica_args_or_null()
    {
        string[] argv = ["/usr/bin/dotnet", "/opt/kiln.dll", .. Full.Format()];
        Assert.Equal(Full, ReplicaArgs.FromCommandLine(argv));
        Assert.Null(ReplicaArgs.FromCommandLine(["/usr/bin/sleep", "100"]));
        Assert.Null(ReplicaArgs.FromCommandLine(["/usr/bin/dotnet", "replica", "--port", "1"]));
    }

    [Fact]
    public void A_download_needs_url_digest_and_cache_and_defaults_the_model_path_to_its_place_in_the_cache()
    {
        var parsed = ReplicaArgs.Parse(["replica", "--model-url", "https://cp/x:download", "--model-sha256", Sha, "--model-cache", "/cache/"]);
        Assert.Equal($"/cache/sha256/{Sha}.gguf", parsed.ModelPath);
        Assert.Equal("/cache/", parsed.ModelCache);
        Assert.Null(parsed.ModelCacheMaxBytes);

        Assert.False(ReplicaArgs.TryParse(["replica", "--model-url", "http://cp/x"], out _, out var missing));
        Assert.Equal(["--model-sha256", "--model-cache"], missing.Select(e => e.Flag));
        Assert.All(missing, e => Assert.Contains("a download needs all three", e.Message));
    }

    [Theory]
    [InlineData("--model-url", "ftp://cp/x", "--model-url must be an absolute http(s) URL, got 'ftp://cp/x'.")]
    [InlineData("--model-url", "/relative", "--model-url must be an absolute http(s) URL, got '/relative'.")]
    [InlineData("--model-sha256", "ABC", "--model-sha256 must be 64 lowercase hex digits, got 'ABC'.")]
    [InlineData("--model-cache", "cache", "--model-cache must be an absolute directory path, got 'cache'.")]
    [InlineData("--model-cache-max-bytes", "0", "--model-cache-max-bytes must be a whole number of bytes >= 1, got '0'.")]
    [InlineData("--model-cache-max-bytes", "1e9", "--model-cache-max-bytes must be a whole number of bytes >= 1, got '1e9'.")]
    public void A_bad_download_flag_is_an_error_naming_it(string flag, string value, string message)
    {
        string[] good = ["replica", "--model-url", "http://cp/x", "--model-sha256", Sha, "--model-cache", "/c"];
        var e = Assert.Throws<ReplicaArgsException>(() => ReplicaArgs.Parse([.. good, flag, value]));
        Assert.Equal([new ReplicaArgsError(flag, message)], e.Errors);
    }

    private static string After(IReadOnlyList<string> argv, string flag) => argv[argv.ToList().IndexOf(flag) + 1];
}
