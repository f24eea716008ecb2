using Kiln.Core.Deployments;
using Kiln.Core.Errors;

namespace Kiln.Core.Tests;

public class DeploymentSpecMergeTests
{
    private static readonly DeploymentSpec Current = DeploymentSpecs.Create(new DeploymentSpecPatch
    {
        BaseModel = "accounts/a/models/m",
        DisplayName = "old",
        MinReplicaCount = 1,
        MaxReplicaCount = 3,
        AutoscalingPolicy = new AutoscalingPolicyPatch { ScaleUpWindow = TimeSpan.FromSeconds(5) },
        AcceleratorCount = 2,
    });

    [Fact]
    public void Without_mask_only_present_fields_change()
    {
        var spec = DeploymentSpecs.Update(Current, new DeploymentSpecPatch { MaxReplicaCount = 4 });
        Assert.Equal(Current with { MaxReplicaCount = 4 }, spec);
    }

    [Fact]
    public void Nested_policy_fields_merge_individually()
    {
        var spec = DeploymentSpecs.Update(Current, new DeploymentSpecPatch
        {
            AutoscalingPolicy = new AutoscalingPolicyPatch { ScaleDownWindow = TimeSpan.FromMinutes(2) },
        });
        Assert.Equal(TimeSpan.FromSeconds(5), spec.AutoscalingPolicy.ScaleUpWindow);
        Assert.Equal(TimeSpan.FromMinutes(2), spec.AutoscalingPolicy.ScaleDownWindow);
    }

    [Fact]
    public void Mask_limits_the_change_and_resets_absent_fields_to_defaults()
    {
        var spec = DeploymentSpecs.Update(Current,
            new DeploymentSpecPatch { MinReplicaCount = 0, DisplayName = "ignored" },
            ["minReplicaCount", "autoscalingPolicy.scaleUpWindow", "acceleratorCount"]);
        Assert.Equal(0, spec.MinReplicaCount);
        Assert.Equal("old", spec.DisplayName);
        Assert.Equal(TimeSpan.FromSeconds(30), spec.AutoscalingPolicy.ScaleUpWindow);
        Assert.Equal(1, spec.AcceleratorCount);
    }

    [Fact]
    public void Mask_accepts_snake_case_and_whole_policy()
    {
        var spec = DeploymentSpecs.Update(Current, new DeploymentSpecPatch { MaxReplicaCount = 5 }, ["max_replica_count", "autoscaling_policy"]);
        Assert.Equal(5, spec.MaxReplicaCount);
        Assert.Equal(new AutoscalingPolicy(), spec.AutoscalingPolicy);
    }

    [Fact]
    public void Masked_max_without_value_defaults_from_new_min()
    {
        var spec = DeploymentSpecs.Update(Current, new DeploymentSpecPatch { MinReplicaCount = 4 }, ["minReplicaCount", "maxReplicaCount"]);
        Assert.Equal((4, 4), (spec.MinReplicaCount, spec.MaxReplicaCount));
    }

    [Fact]
    public void Raising_min_above_max_is_reported_not_widened()
    {
        var e = Assert.Throws<KilnError>(() => DeploymentSpecs.Update(Current, new DeploymentSpecPatch { MinReplicaCount = 5 }));
        Assert.Equal([new FieldViolation("maxReplicaCount", "must be at least minReplicaCount (5), got 3")], e.Violations);
    }

    [Fact]
    public void Unknown_mask_path_is_a_violation()
    {
        var e = Assert.Throws<KilnError>(() => DeploymentSpecs.Update(Current, new DeploymentSpecPatch(), ["replicas"]));
        Assert.Equal("updateMask", Assert.Single(e.Violations).Field);
        Assert.StartsWith("unknown field \"replicas\"", e.Violations[0].Description);
    }

    [Fact]
    public void Base_model_is_immutable()
    {
        var e = Assert.Throws<KilnError>(() => DeploymentSpecs.Update(Current, new DeploymentSpecPatch { BaseModel = "accounts/a/models/other" }));
        Assert.Equal("baseModel", Assert.Single(e.Violations).Field);
        Assert.Equal(Current, DeploymentSpecs.Update(Current, new DeploymentSpecPatch { BaseModel = Current.BaseModel }));
    }

    [Fact]
    public void Empty_display_name_clears_it() =>
        Assert.Null(DeploymentSpecs.Update(Current, new DeploymentSpecPatch { DisplayName = "" }).DisplayName);

    [Fact]
    public void Load_targets_replace_the_whole_map()
    {
        var spec = DeploymentSpecs.Update(Current, new DeploymentSpecPatch
        {
            AutoscalingPolicy = new AutoscalingPolicyPatch { LoadTargets = new Dictionary<string, double> { ["requests_per_second"] = 3 } },
        });
        Assert.Equal(["requests_per_second"], spec.AutoscalingPolicy.LoadTargets.Keys);
    }

    [Fact]
    public void Patch_maps_are_copied_not_aliased()
    {
        var targets = new Dictionary<string, double> { ["default"] = 0.5 };
        var spec = DeploymentSpecs.Update(Current, new DeploymentSpecPatch { AutoscalingPolicy = new AutoscalingPolicyPatch { LoadTargets = targets } });
        targets["default"] = 0.9;
        Assert.Equal(0.5, spec.AutoscalingPolicy.LoadTargets["default"]);
    }

    [Fact]
    public void Restart_needed_only_for_replica_shape_changes()
    {
        Assert.False(DeploymentSpecs.RequiresReplicaRestart(Current, Current with { MaxReplicaCount = 9, DisplayName = "x" }));
        Assert.True(DeploymentSpecs.RequiresReplicaRestart(Current, Current with { AcceleratorCount = 4 }));
        Assert.True(DeploymentSpecs.RequiresReplicaRestart(Current, Current with { EnableAddons = true }));
        Assert.True(DeploymentSpecs.RequiresReplicaRestart(Current, Current with { AcceleratorType = AcceleratorType.NvidiaL4_24GB }));
        Assert.True(DeploymentSpecs.RequiresReplicaRestart(Current, Current with { Precision = Precision.Fp16 }));
    }

    [Fact]
    public void Precision_update_changes_it_and_needs_a_restart()
    {
        var spec = DeploymentSpecs.Update(Current, new DeploymentSpecPatch { Precision = Precision.Fp16 });
        Assert.Equal(Current with { Precision = Precision.Fp16 }, spec);
        Assert.True(DeploymentSpecs.RequiresReplicaRestart(Current, spec));
        Assert.Equal(spec, DeploymentSpecs.Update(spec, new DeploymentSpecPatch { MaxReplicaCount = 3 }));
    }

    [Fact]
    public void Masked_precision_without_value_goes_back_to_fp32()
    {
        var half = Current with { Precision = Precision.Fp16 };
        Assert.Equal(Precision.Fp32, DeploymentSpecs.Update(half, new DeploymentSpecPatch(), ["precision"]).Precision);
        Assert.Equal(Precision.Fp16, DeploymentSpecs.Update(Current, new DeploymentSpecPatch { Precision = Precision.Fp16 }, ["precision"]).Precision);
        Assert.Equal(Precision.Fp32, DeploymentSpecs.Update(Current, new DeploymentSpecPatch { Precision = Precision.Fp16 }, ["displayName"]).Precision);
    }
}
