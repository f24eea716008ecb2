using Kiln.Core.Billing;
using Kiln.Core.Deployments;

namespace Kiln.Core.Tests.Billing;

public class UsageTests
{
    private static readonly DateTimeOffset T0 = new(2025, 3, 1, 0, 0, 0, TimeSpan.Zero);
    private const string D1 = "accounts/a/deployments/d1";
    private const string D2 = "accounts/a/deployments/d2";
    private const string M = "accounts/a/models/m";

    private static DateTimeOffset At(double seconds) => T0 + TimeSpan.FromSeconds(seconds);

    private static readonly UsageRecord[] Records =
    [
        new(At(0), "a", "key1", D1, M, 10, 20),
        new(At(5), "a", "key2", D1, M, 1, 2),
        new(At(10), "a", "key1", D2, M, 100, 200, Requests: 3),
        new(At(20), "a", "key1", D1, M, 1000, 2000),
    ];

    [Fact]
    public void Sums_per_deployment_within_the_window()
    {
        var all = UsageAggregation.ByDeployment(Records, new BillingWindow(At(0), At(30)));
        Assert.Equal([D1, D2], all.Keys);
        Assert.Equal(new UsageTotals(3, 1011, 2022), all[D1]);
        Assert.Equal(new UsageTotals(3, 100, 200), all[D2]);
    }

    [Fact]
    public void Window_is_half_open()
    {
        var w = UsageAggregation.ByDeployment(Records, new BillingWindow(At(5), At(20)));
        Assert.Equal(new UsageTotals(1, 1, 2), w[D1]);
        Assert.Equal(new UsageTotals(3, 100, 200), w[D2]);
        Assert.Empty(UsageAggregation.ByDeployment(Records, new BillingWindow(At(21), At(21))));
    }

    [Fact]
    public void Sums_per_api_key_and_model()
    {
        var keys = UsageAggregation.ByApiKey(Records, BillingWindow.Until(At(100)));
        Assert.Equal(new UsageTotals(5, 1110, 2220), keys["key1"]);
        Assert.Equal(new UsageTotals(1, 1, 2), keys["key2"]);
        Assert.Equal(new UsageTotals(6, 1111, 2222), UsageAggregation.ByModel(Records, BillingWindow.Until(At(100)))[M]);
        Assert.Equal(3333, UsageAggregation.ByModel(Records, BillingWindow.Until(At(100)))[M].TotalTokens);
    }

    [Fact]
    public void Totals_overflow_loudly() =>
        Assert.Throws<OverflowException>(() => new UsageTotals(long.MaxValue, 0, 0) + new UsageTotals(1, 0, 0));

    [Fact]
    public void Report_joins_metering_and_usage_per_deployment()
    {
        var replicas = new[]
        {
            new ReplicaLifetime(D1, "r1", AcceleratorType.NvidiaA100_80GB, 2, At(-100), At(1800)),
            new ReplicaLifetime("accounts/a/deployments/idle", "r2", AcceleratorType.Cpu, 1, At(0), null),
        };
        var report = UsageReport.Build(replicas, Records, new BillingWindow(At(0), At(3600)), At(3600), PriceTable.Default);

        Assert.Equal(["accounts/a/deployments/d1", "accounts/a/deployments/d2", "accounts/a/deployments/idle"], report.Deployments.Select(d => d.Deployment));
        Assert.Equal(new DeploymentUsage(D1, 3600m, 2.90m, new UsageTotals(3, 1011, 2022)), report.Deployments[0]);
        Assert.Equal(new DeploymentUsage(D2, 0m, 0m, new UsageTotals(3, 100, 200)), report.Deployments[1]);
        Assert.Equal(new DeploymentUsage("accounts/a/deployments/idle", 3600m, 0.05m, UsageTotals.Zero), report.Deployments[2]);
        Assert.Equal([new ApiKeyUsage("key1", new UsageTotals(5, 1110, 2220)), new ApiKeyUsage("key2", new UsageTotals(1, 1, 2))], report.ApiKeys);
        Assert.Equal(7200m, report.AcceleratorSeconds);
        Assert.Equal(2.95m, report.Cost);
        Assert.Equal(new UsageTotals(6, 1111, 2222), report.Usage);
    }

    [Fact]
    public void Report_accepts_one_shot_sequences()
    {
        static IEnumerable<UsageRecord> Once()
        {
            foreach (var r in Records)
            {
                yield return r;
            }
        }
        var report = UsageReport.Build([], Once(), BillingWindow.Until(At(100)), At(100), PriceTable.Default);
        Assert.Equal(new UsageTotals(6, 1111, 2222), report.Usage);
        Assert.Equal(2, report.ApiKeys.Count);
    }
}
