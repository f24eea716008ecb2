using Kiln.Core.Autoscaling;
using Kiln.Core.Deployments;

namespace Kiln.Core.Tests.Autoscaling;

public class LoadNeedsTests
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static Dictionary<string, double> Targets(params (string Key, double Value)[] targets) =>
        targets.ToDictionary(t => t.Key, t => t.Value);

    [Theory]
    [InlineData(1, 0.8, 1)] // exactly at target: one replica suffices
    [InlineData(1, 0.81, 2)]
    [InlineData(3, 0.8, 3)]
    [InlineData(3, 0.9, 4)] // 2.7 busy / 0.8
    [InlineData(4, 0.1, 1)]
    [InlineData(4, 0, 0)]
    [InlineData(0, 0.9, 0)] // nothing ready, nothing measured
    public void Default_target_uses_total_occupancy(int ready, double occupancy, int expected)
    {
        var sample = new LoadSample { Time = T0, ReadyReplicas = ready, BatchOccupancy = occupancy };
        Assert.Equal(expected, LoadNeeds.Largest(sample, DeploymentDefaults.LoadTargets).Replicas);
    }

    [Fact]
    public void Each_target_divides_its_own_total()
    {
        var sample = new LoadSample
        {
            Time = T0,
            ReadyReplicas = 2,
            BatchOccupancy = 0.5,
            ConcurrentRequests = 7,
            RequestsPerSecond = 25,
            TokensGeneratedPerSecond = 250,
            PromptTokensPerSecond = 3500,
        };
        Assert.Equal(2, LoadNeeds.For(sample, LoadTargets.Default, 0.5).Replicas);
        Assert.Equal(4, LoadNeeds.For(sample, LoadTargets.ConcurrentRequests, 2).Replicas);
        Assert.Equal(3, LoadNeeds.For(sample, LoadTargets.RequestsPerSecond, 10).Replicas);
        Assert.Equal(3, LoadNeeds.For(sample, LoadTargets.TokensGeneratedPerSecond, 100).Replicas);
        Assert.Equal(4, LoadNeeds.For(sample, LoadTargets.PromptTokensPerSecond, 1000).Replicas);
    }

    [Fact]
    public void With_several_targets_the_largest_count_wins()
    {
        var sample = new LoadSample { Time = T0, ReadyReplicas = 1, BatchOccupancy = 0.5, ConcurrentRequests = 7, RequestsPerSecond = 25 };
        var need = LoadNeeds.Largest(sample, Targets(("default", 0.8), ("concurrent_requests", 2), ("requests_per_second", 10)));
        Assert.Equal((LoadTargets.ConcurrentRequests, 4), (need.Target, need.Replicas));

        var tokens = new LoadSample { Time = T0, TokensGeneratedPerSecond = 250, PromptTokensPerSecond = 3500 };
        var t = LoadNeeds.Largest(tokens, Targets(("tokens_generated_per_second", 100), ("prompt_tokens_per_second", 1000)));
        Assert.Equal((LoadTargets.PromptTokensPerSecond, 4), (t.Target, t.Replicas));
    }

    [Fact]
    public void Ties_go_to_the_earlier_key()
    {
        var sample = new LoadSample { Time = T0, ReadyReplicas = 1, BatchOccupancy = 0.8, ConcurrentRequests = 1 };
        Assert.Equal(LoadTargets.Default, LoadNeeds.Largest(sample, Targets(("concurrent_requests", 1), ("default", 0.8))).Target);
    }

    [Fact]
    public void Unusable_targets_fall_back_to_default()
    {
        var sample = new LoadSample { Time = T0, ReadyReplicas = 2, BatchOccupancy = 1, ConcurrentRequests = 100 };
        var need = LoadNeeds.Largest(sample, Targets(("bogus", 1), ("concurrent_requests", 0), ("requests_per_second", double.NaN)));
        Assert.Equal((LoadTargets.Default, 3), (need.Target, need.Replicas));
        Assert.Equal(3, LoadNeeds.Largest(sample, Targets()).Replicas);
    }

    [Fact]
    public void Garbage_load_counts_as_none()
    {
        var sample = new LoadSample { Time = T0, ReadyReplicas = 1, BatchOccupancy = double.NaN, ConcurrentRequests = -5 };
        Assert.Equal(0, LoadNeeds.Largest(sample, Targets(("default", 0.8), ("concurrent_requests", 1))).Replicas);
        var huge = new LoadSample { Time = T0, RequestsPerSecond = double.PositiveInfinity };
        Assert.Equal(0, LoadNeeds.Largest(huge, Targets(("requests_per_second", 1))).Replicas);
    }

    [Fact]
    public void Headroom_plans_for_part_of_the_target()
    {
        var sample = new LoadSample { Time = T0, ConcurrentRequests = 9 };
        Assert.Equal(3, LoadNeeds.For(sample, LoadTargets.ConcurrentRequests, 3).Replicas);
        Assert.Equal(4, LoadNeeds.For(sample, LoadTargets.ConcurrentRequests, 3, headroom: 0.9).Replicas);
    }

    [Fact]
    public void Describe_reports_load_per_replica()
    {
        var need = LoadNeeds.For(new LoadSample { Time = T0, ReadyReplicas = 2, BatchOccupancy = 0.93 }, LoadTargets.Default, 0.8);
        Assert.Equal("default load 0.93 > target 0.8", need.Describe(2, ">"));
        Assert.Equal("default load 0.62 < target 0.8", need.Describe(3, "<"));
    }
}
