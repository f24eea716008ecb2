using Kiln.Core.Deployments;
using Kiln.Core.Errors;

namespace Kiln.Core.Tests;

public class DeploymentSpecValidationTests
{
    private static readonly DeploymentSpec Valid = DeploymentSpecs.Create(new DeploymentSpecPatch { BaseModel = "accounts/a/models/m" });

    private static IReadOnlyList<FieldViolation> Check(DeploymentSpec spec) => DeploymentSpecValidator.Validate(spec);

    [Fact]
    public void Valid_spec_has_no_violations() => Assert.Empty(Check(Valid));

    [Fact]
    public void Missing_base_model()
    {
        var e = Assert.Throws<KilnError>(() => DeploymentSpecs.Create(new DeploymentSpecPatch()));
        Assert.Equal(StatusCode.InvalidArgument, e.Code);
        Assert.Equal([new FieldViolation("baseModel", "is required")], e.Violations);
        Assert.Equal("baseModel: is required", e.Message);
    }

    [Fact]
    public void Bad_base_model_names_the_value() =>
        Assert.Contains(Check(Valid with { BaseModel = "llama" }), v => v.Field == "baseModel" && v.Description.Contains("\"llama\""));

    [Theory]
    [InlineData(-1, 1, "minReplicaCount", "must be between 0 and 100, got -1")]
    [InlineData(101, 101, "minReplicaCount", "must be between 0 and 100, got 101")]
    [InlineData(0, 0, "maxReplicaCount", "must be at least 1, got 0")]
    [InlineData(3, 2, "maxReplicaCount", "must be at least minReplicaCount (3), got 2")]
    [InlineData(0, 101, "maxReplicaCount", "must be at most 100, got 101")]
    public void Replica_bounds(int min, int max, string field, string description) =>
        Assert.Contains(new FieldViolation(field, description), Check(Valid with { MinReplicaCount = min, MaxReplicaCount = max }));

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public void Accelerator_count_powers_of_two(int n) => Assert.Empty(Check(Valid with { AcceleratorCount = n }));

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(16)]
    [InlineData(-2)]
    public void Accelerator_count_rejected(int n) =>
        Assert.Equal([new FieldViolation("acceleratorCount", $"must be 1, 2, 4 or 8, got {n}")], Check(Valid with { AcceleratorCount = n }));

    [Fact]
    public void Negative_durations_are_named_in_go_syntax()
    {
        var spec = Valid with
        {
            AutoscalingPolicy = Valid.AutoscalingPolicy with { ScaleDownWindow = TimeSpan.FromSeconds(-90) },
            UnusedAutoDeleteDuration = TimeSpan.FromHours(-1),
        };
        Assert.Equal(
            [
                new FieldViolation("autoscalingPolicy.scaleDownWindow", "must not be negative, got -1m30s"),
                new FieldViolation("unusedAutoDeleteDuration", "must not be negative, got -1h0m0s"),
            ],
            Check(spec));
    }

    [Fact]
    public void Zero_durations_are_allowed() =>
        Assert.Empty(Check(Valid with { UnusedAutoDeleteDuration = TimeSpan.Zero, AutoscalingPolicy = new AutoscalingPolicy { ScaleUpWindow = TimeSpan.Zero } }));

    [Fact]
    public void Load_targets()
    {
        static IReadOnlyList<FieldViolation> With(Dictionary<string, double> t) =>
            Check(Valid with { AutoscalingPolicy = Valid.AutoscalingPolicy with { LoadTargets = t } });

        Assert.Empty(With(new() { ["default"] = 1.0, ["requests_per_second"] = 5, ["concurrent_requests"] = 8 }));
        Assert.Equal([new FieldViolation("autoscalingPolicy.loadTargets", "must name at least one target")], With([]));
        Assert.Equal([new FieldViolation("autoscalingPolicy.loadTargets.default", "must be a fraction in (0, 1], got 1.5")], With(new() { ["default"] = 1.5 }));
        Assert.Equal([new FieldViolation("autoscalingPolicy.loadTargets.default", "must be a fraction in (0, 1], got 0")], With(new() { ["default"] = 0 }));
        Assert.Equal([new FieldViolation("autoscalingPolicy.loadTargets.tokens_generated_per_second", "must be a positive number, got -1")],
            With(new() { ["tokens_generated_per_second"] = -1 }));
        Assert.Single(With(new() { ["requests_per_second"] = double.NaN }));
        Assert.Single(With(new() { ["requests_per_second"] = double.PositiveInfinity }));
        var unknown = Assert.Single(With(new() { ["gpu"] = 0.5 }));
        Assert.StartsWith("unknown target \"gpu\"; known: default, ", unknown.Description);
    }

    [Fact]
    public void Display_name_length()
    {
        Assert.Empty(Check(Valid with { DisplayName = new string('x', 256) }));
        Assert.Equal([new FieldViolation("displayName", "is 257 characters long; at most 256 are allowed")], Check(Valid with { DisplayName = new string('x', 257) }));
    }

    [Fact]
    public void Undefined_accelerator_type() =>
        Assert.Equal("acceleratorType", Assert.Single(Check(Valid with { AcceleratorType = (AcceleratorType)99 })).Field);

    [Fact]
    public void Undefined_precision() =>
        Assert.Equal("precision", Assert.Single(Check(Valid with { Precision = (Precision)7 })).Field);

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var e = Assert.Throws<KilnError>(() => DeploymentSpecs.Create(new DeploymentSpecPatch
        {
            BaseModel = "x",
            MinReplicaCount = -1,
            AcceleratorCount = 3,
        }));
        Assert.Equal(["baseModel", "minReplicaCount", "acceleratorCount"], e.Violations.Select(v => v.Field));
        Assert.Equal(3, e.Message.Split("; ").Length);
    }
}

public class MaxAddonCountSpecTests
{
    private static readonly DeploymentSpecPatch Base = new() { BaseModel = "accounts/a/models/m" };

    [Theory]
    [InlineData(0)]
    [InlineData(-2)]
    [InlineData(1001)]
    public void Out_of_range_names_the_field(int count)
    {
        var e = Assert.Throws<KilnError>(() => DeploymentSpecs.Create(Base with { MaxAddonCount = count }));
        Assert.Equal(StatusCode.InvalidArgument, e.Code);
        Assert.Equal([new FieldViolation("maxAddonCount", $"must be between 1 and 1000, got {count}")], e.Violations);
    }

    [Fact]
    public void Unset_follows_the_server_and_a_masked_update_returns_to_it()
    {
        Assert.Null(DeploymentSpecs.Create(Base).MaxAddonCount);
        var four = DeploymentSpecs.Create(Base with { MaxAddonCount = 4 });
        Assert.Equal(4, four.MaxAddonCount);
        // Other changes leave it; a change of it alone needs no new replicas.
        Assert.Equal(4, DeploymentSpecs.Update(four, new DeploymentSpecPatch { DisplayName = "x" }).MaxAddonCount);
        var two = DeploymentSpecs.Update(four, new DeploymentSpecPatch { MaxAddonCount = 2 });
        Assert.Equal(2, two.MaxAddonCount);
        Assert.False(DeploymentSpecs.RequiresReplicaRestart(four, two));
        Assert.Null(DeploymentSpecs.Update(four, new DeploymentSpecPatch(), ["max_addon_count"]).MaxAddonCount);
        Assert.Throws<KilnError>(() => DeploymentSpecs.Update(four, new DeploymentSpecPatch { MaxAddonCount = 0 }));
    }
}
