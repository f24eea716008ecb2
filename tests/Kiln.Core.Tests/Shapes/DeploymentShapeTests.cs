using System.Text.Json;
using Kiln.Core.Deployments;
using Kiln.Core.Engines;
using Kiln.Core.Errors;
using Kiln.Core.Shapes;

namespace Kiln.Core.Tests.Shapes;

/// <summary>Deployment shapes: names, fit, filling a request, and the configuration file's section.</summary>
public class DeploymentShapeTests
{
    private static ShapeVersion Minimal => ShapeCatalog.Default.Find("cpu-minimal", null)!;

    [Theory]
    [InlineData("cpu-minimal", null, "cpu-minimal", null)]
    [InlineData("accounts/acme/deploymentShapes/big", "acme", "big", null)]
    [InlineData("accounts/acme/deploymentShapes/big/versions/latest", "acme", "big", null)]
    [InlineData("accounts/acme/deploymentShapes/big/versions/0a1b2c3d4e5f", "acme", "big", "0a1b2c3d4e5f")]
    public void A_shape_is_named_by_id_shape_name_or_version_name(string text, string? account, string id, string? version)
    {
        Assert.True(ShapeName.TryParse(text, out var name, out _));
        Assert.Equal(new ShapeName(account, id, version), name);
    }

    [Theory]
    [InlineData("", "is required")]
    [InlineData("accounts/acme/shapes/big", "is not a deployment shape")]
    [InlineData("accounts/acme/deploymentShapes/big/revisions/1", "is not a deployment shape")]
    [InlineData("Big", "invalid deployment shape ID")]
    [InlineData("accounts/acme/deploymentShapes/big/versions/a_b", "is not a version ID")]
    public void A_malformed_shape_name_says_what_is_wrong(string text, string why)
    {
        Assert.False(ShapeName.TryParse(text, out _, out var error));
        Assert.Contains(why, error);
    }

    [Fact]
    public void Version_ids_follow_the_content()
    {
        var s = Minimal.Snapshot;
        Assert.Equal(s.VersionId(), (s with { }).VersionId());
        Assert.NotEqual(s.VersionId(), (s with { MaxBatchSize = 5 }).VersionId());
        Assert.Matches("^[0-9a-f]{12}$", s.VersionId());
        Assert.StartsWith("accounts/kiln/deploymentShapes/cpu-minimal/versions/", Minimal.Name);
    }

    [Fact]
    public void A_shape_fits_by_architecture_and_size_or_by_exact_model()
    {
        Assert.Null(ShapeFit.Check(Minimal, new("accounts/a/models/tiny", "llama", 1 << 20)));
        Assert.Contains("fits llama models, but accounts/a/models/q is qwen2", ShapeFit.Check(Minimal, new("accounts/a/models/q", "qwen2", 1 << 20)));
        Assert.Contains("at most 2,048 MiB, but accounts/a/models/big is 4,096 MiB", ShapeFit.Check(Minimal, new("accounts/a/models/big", "LLAMA", 4L << 30)));
        var exact = ShapeVersion.Of("acme", "mine", new ShapeSnapshot { BaseModel = "accounts/acme/models/m" }, ShapeCatalog.ServerShapeTime);
        Assert.Null(ShapeFit.Check(exact, new("accounts/acme/models/m", "anything", 1)));
        Assert.Contains("is made for accounts/acme/models/m, not accounts/acme/models/n", ShapeFit.Check(exact, new("accounts/acme/models/n", null, 1)));
    }

    [Fact]
    public void Applying_a_shape_fills_what_it_fixes_and_keeps_the_rest()
    {
        var throughput = ShapeCatalog.Default.Find("cpu-throughput", null)!;
        var patch = ShapeApplication.Apply(new DeploymentSpecPatch { BaseModel = "accounts/a/models/m", MinReplicaCount = 1, AcceleratorType = AcceleratorType.Cpu }, throughput);
        var spec = DeploymentSpecs.Create(patch);
        Assert.Equal((throughput.Name, AcceleratorType.Cpu, 2, Precision.Fp16, "kiln", 16, 4096, 512, 1),
            (spec.DeploymentShape, spec.AcceleratorType, spec.AcceleratorCount, spec.Precision, spec.Engine, spec.MaxBatchSize, spec.MaxContextLength, spec.PrefixCacheMb, spec.MinReplicaCount));
    }

    [Fact]
    public void A_request_field_contradicting_the_shape_is_refused_naming_both()
    {
        var e = Assert.Throws<KilnError>(() => ShapeApplication.Apply(
            new DeploymentSpecPatch { BaseModel = "accounts/a/models/m", Precision = Precision.Fp16, AcceleratorCount = 1, PrefixCacheMb = 10 }, Minimal));
        Assert.Equal(StatusCode.InvalidArgument, e.Code);
        Assert.Contains($"precision: FP16 contradicts deployment shape {Minimal.Name}, which fixes precision FP32", e.Message);
        Assert.Contains("prefixCacheMb: 10 contradicts", e.Message);
        Assert.DoesNotContain("acceleratorCount", e.Message);
    }

    [Fact]
    public void Switching_shapes_replaces_the_engine_settings_and_clearing_drops_them()
    {
        var fast = ShapeCatalog.Default.Find("cpu-fast", null)!;
        var spec = DeploymentSpecs.Create(ShapeApplication.Apply(new DeploymentSpecPatch { BaseModel = "accounts/a/models/m" }, Minimal));
        var switched = DeploymentSpecs.Update(spec, ShapeApplication.Apply(new DeploymentSpecPatch(), fast));
        Assert.Equal((fast.Name, 2, 4096, 3, 4), (switched.DeploymentShape, switched.AcceleratorCount, switched.MaxContextLength, switched.NgramSpeculationLength, switched.DraftTokenCount));
        Assert.True(DeploymentSpecs.RequiresReplicaRestart(spec, switched));
        var cleared = DeploymentSpecs.Update(spec, new DeploymentSpecPatch { DeploymentShape = "" });
        Assert.Equal((null, null, null, 64), (cleared.DeploymentShape, cleared.MaxBatchSize, cleared.MaxContextLength, cleared.PrefixCacheMb));
    }

    [Theory]
    [InlineData(-1, "prefixCacheMb: must be between 0 (off)")]
    [InlineData(2_000_000, "prefixCacheMb: must be between 0 (off) and 1048576, got 2000000")]
    public void A_prefix_cache_budget_out_of_range_is_refused(int mb, string why)
    {
        var e = Assert.Throws<KilnError>(() => DeploymentSpecs.Create(new DeploymentSpecPatch { BaseModel = "accounts/a/models/m", PrefixCacheMb = mb }));
        Assert.Contains(why, e.Message);
        Assert.Equal(0, DeploymentSpecs.Create(new DeploymentSpecPatch { BaseModel = "accounts/a/models/m", PrefixCacheMb = 0 }).PrefixCacheMb);
    }

    [Fact]
    public void The_prefix_cache_budget_is_Kiln_engine_s_own()
    {
        var e = Assert.Throws<KilnError>(() => DeploymentSpecs.Create(new DeploymentSpecPatch { BaseModel = "accounts/a/models/m", Engine = "vllm", PrefixCacheMb = 8 }));
        Assert.Contains("prefixCacheMb: is a setting of Kiln's engine", e.Message);
    }

    [Fact]
    public void The_configuration_adds_shapes_and_replaces_built_ins()
    {
        using var doc = JsonDocument.Parse("""
            { "deploymentShapes": {
                "gpu-big": { "presetType": "THROUGHPUT", "acceleratorType": "NVIDIA_A100_80GB", "acceleratorCount": 4, "engine": "vllm",
                             "maxBatchSize": 128, "maxContextLength": 8192, "architectures": ["LlamaForCausalLM"] },
                "cpu-minimal": { "maxBatchSize": 2 } } }
            """);
        Assert.True(ShapeCatalog.TryRead(doc.RootElement, EngineCatalog.Default, out var catalog, out var problems), string.Join("\n", problems));
        var big = catalog.Find("gpu-big", null)!;
        Assert.Equal((AcceleratorType.NvidiaA100_80GB, 4, "vllm", 128), (big.Snapshot.AcceleratorType, big.Snapshot.AcceleratorCount, big.Snapshot.Engine, big.Snapshot.MaxBatchSize));
        Assert.Equal(2, catalog.Find("cpu-minimal", null)!.Snapshot.MaxBatchSize);
        Assert.NotNull(catalog.Find("cpu-throughput", null));
        Assert.Null(catalog.Find("cpu-minimal", Minimal.VersionId));
    }

    [Fact]
    public void A_bad_shape_in_the_configuration_is_named_with_its_path()
    {
        using var doc = JsonDocument.Parse("""
            { "deploymentShapes": { "odd": { "engine": "nope", "maxBatchSize": 0, "presetType": "TURBO", "colour": 1 }, "Bad": {} } }
            """);
        Assert.False(ShapeCatalog.TryRead(doc.RootElement, EngineCatalog.Default, out _, out var problems));
        var text = string.Join("\n", problems);
        Assert.Contains("deploymentShapes.odd.engine: unknown engine \"nope\"", text);
        Assert.Contains("deploymentShapes.odd.maxBatchSize: must be between 1 and 1024, got 0", text);
        Assert.Contains("deploymentShapes.odd.presetType: unknown preset type \"TURBO\"", text);
        Assert.Contains("deploymentShapes.odd.colour: unknown field", text);
        Assert.Contains("deploymentShapes.Bad: invalid deployment shape ID", text);
    }
}
