using Kiln.Core.Deployments;

namespace Kiln.Core.Tests;

public class DeploymentSpecDefaultsTests
{
    private const string Model = "accounts/acme/models/llama";

    [Fact]
    public void Defaults_match_fireworks()
    {
        var spec = DeploymentSpecs.Create(new DeploymentSpecPatch { BaseModel = Model });
        Assert.Equal(Model, spec.BaseModel);
        Assert.Null(spec.DisplayName);
        Assert.Equal(0, spec.MinReplicaCount);
        Assert.Equal(1, spec.MaxReplicaCount);
        Assert.Equal(TimeSpan.FromSeconds(30), spec.AutoscalingPolicy.ScaleUpWindow);
        Assert.Equal(TimeSpan.FromMinutes(10), spec.AutoscalingPolicy.ScaleDownWindow);
        Assert.Equal(TimeSpan.FromHours(1), spec.AutoscalingPolicy.ScaleToZeroWindow);
        Assert.Equal(new Dictionary<string, double> { ["default"] = 0.8 }, spec.AutoscalingPolicy.LoadTargets);
        Assert.Equal(TimeSpan.FromHours(168), spec.UnusedAutoDeleteDuration);
        // Fireworks defaults to NVIDIA_A100_80GB; Kiln to what the inventory places, CPU where none is known.
        Assert.Equal(AcceleratorType.Cpu, spec.AcceleratorType);
        Assert.Equal(1, spec.AcceleratorCount);
        Assert.False(spec.EnableAddons);
        Assert.Equal(Precision.Fp32, spec.Precision);
    }

    [Fact]
    public void The_default_accelerator_type_is_the_one_given_and_a_masked_reset_returns_to_it()
    {
        var spec = DeploymentSpecs.Create(new DeploymentSpecPatch { BaseModel = Model }, AcceleratorType.NvidiaH100_80GB);
        Assert.Equal(AcceleratorType.NvidiaH100_80GB, spec.AcceleratorType);
        var moved = DeploymentSpecs.Update(spec, new DeploymentSpecPatch { AcceleratorType = AcceleratorType.Cpu });
        Assert.Equal(AcceleratorType.Cpu, moved.AcceleratorType);
        var reset = DeploymentSpecs.Update(moved, new DeploymentSpecPatch(), ["acceleratorType"], AcceleratorType.NvidiaL4_24GB);
        Assert.Equal(AcceleratorType.NvidiaL4_24GB, reset.AcceleratorType);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(5, 5)]
    public void Max_defaults_to_one_or_min(int min, int expectedMax) =>
        Assert.Equal(expectedMax, DeploymentSpecs.Create(new DeploymentSpecPatch { BaseModel = Model, MinReplicaCount = min }).MaxReplicaCount);

    [Fact]
    public void Explicit_values_win()
    {
        var spec = DeploymentSpecs.Create(new DeploymentSpecPatch
        {
            BaseModel = Model,
            MinReplicaCount = 2,
            MaxReplicaCount = 3,
            AutoscalingPolicy = new AutoscalingPolicyPatch { ScaleToZeroWindow = TimeSpan.FromMinutes(5) },
            UnusedAutoDeleteDuration = TimeSpan.Zero,
            AcceleratorType = AcceleratorType.Cpu,
            AcceleratorCount = 2,
            DisplayName = "prod",
            Precision = Precision.Fp16,
        });
        Assert.Equal((2, 3), (spec.MinReplicaCount, spec.MaxReplicaCount));
        Assert.Equal(TimeSpan.FromMinutes(5), spec.AutoscalingPolicy.ScaleToZeroWindow);
        Assert.Equal(TimeSpan.FromSeconds(30), spec.AutoscalingPolicy.ScaleUpWindow);
        Assert.Equal(TimeSpan.Zero, spec.UnusedAutoDeleteDuration);
        Assert.Equal(AcceleratorType.Cpu, spec.AcceleratorType);
        Assert.Equal("prod", spec.DisplayName);
        Assert.Equal(Precision.Fp16, spec.Precision);
    }

    [Fact]
    public void Specs_compare_by_value_including_load_targets()
    {
        var a = DeploymentSpecs.Create(new DeploymentSpecPatch { BaseModel = Model });
        var b = DeploymentSpecs.Create(new DeploymentSpecPatch
        {
            BaseModel = Model,
            AutoscalingPolicy = new AutoscalingPolicyPatch { LoadTargets = new Dictionary<string, double> { ["default"] = 0.8 } },
        });
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, b with { AutoscalingPolicy = b.AutoscalingPolicy with { LoadTargets = new Dictionary<string, double> { ["default"] = 0.7 } } });
    }

    [Fact]
    public void Accelerator_wire_names()
    {
        Assert.Equal("NVIDIA_A100_80GB", AcceleratorType.NvidiaA100_80GB.ToWireName());
        Assert.Equal("AMD_MI300X_192GB", AcceleratorType.AmdMi300X_192GB.ToWireName());
        Assert.True(AcceleratorTypes.TryParse("NVIDIA_H200_141GB", out var t));
        Assert.Equal(AcceleratorType.NvidiaH200_141GB, t);
        Assert.False(AcceleratorTypes.TryParse("nvidia_a100_80gb", out _));
        Assert.Equal("NVIDIA_A100_40GB", AcceleratorType.NvidiaA100_40GB.ToWireName());
        Assert.Equal(9, AcceleratorTypes.WireNames.Count);
        Assert.False(AcceleratorType.Cpu.IsGpu());
        Assert.True(AcceleratorType.NvidiaL4_24GB.IsGpu());
    }

    [Fact]
    public void Precision_wire_names()
    {
        Assert.Equal("FP32", Precision.Fp32.ToWireName());
        Assert.Equal("FP16", Precision.Fp16.ToWireName());
        Assert.True(Precisions.TryParse("FP16", out var p));
        Assert.Equal(Precision.Fp16, p);
        Assert.False(Precisions.TryParse("fp16", out _));
        Assert.False(Precisions.TryParse(Precisions.Unspecified, out _));
        Assert.Equal(["FP32", "FP16"], Precisions.WireNames);
    }
}
