using Kiln.Core.Autoscaling;

namespace Kiln.Core.Tests.Autoscaling;

public class ScrapeReuseTests
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset LastRequest = T0.AddMinutes(-10);

    private static DeploymentActivity Quiet(params string[] replicas) => new()
    {
        ReadyReplicas = replicas.Length == 0 ? ["r1", "r2"] : replicas,
        Arrivals = 7,
        LastRequestTime = LastRequest,
        GatewayLastRequestTime = LastRequest.AddSeconds(-1),
    };

    // A quiet scrape on pass 1 (turn 0, so passes 2 to 5 are not its turn).
    private static QuietScrape Scraped() => ScrapeReuse.Remember(Quiet(), ["r2", "r1"], allIdle: true, pass: 1, T0)!;

    [Fact]
    public void A_quiet_deployment_reuses_its_scrape_while_nothing_changes()
    {
        var last = Scraped();
        for (var pass = 2; pass <= 5; pass++)
        {
            Assert.True(ScrapeReuse.MayReuse(last, Quiet(), pass, turn: 0, T0.AddSeconds(5 * (pass - 1))));
        }
    }

    [Fact]
    public void Nothing_is_reused_without_a_quiet_scrape()
    {
        Assert.False(ScrapeReuse.MayReuse(null, Quiet(), 2, 0, T0.AddSeconds(5)));
        Assert.Null(ScrapeReuse.Remember(Quiet(), ["r1", "r2"], allIdle: false, 1, T0));
        Assert.Null(ScrapeReuse.Remember(Quiet() with { InFlight = 1 }, ["r1", "r2"], allIdle: true, 1, T0));
        Assert.Null(ScrapeReuse.Remember(Quiet() with { Held = 1 }, ["r1", "r2"], allIdle: true, 1, T0));
        // A replica whose scrape failed is not known to be quiet.
        Assert.Null(ScrapeReuse.Remember(Quiet(), ["r1"], allIdle: true, 1, T0));
        Assert.Null(ScrapeReuse.Remember(Quiet(), ["r1", "r1"], allIdle: true, 1, T0));
        Assert.Null(ScrapeReuse.Remember(Quiet(), ["r1", "r3"], allIdle: true, 1, T0));
    }

    [Fact]
    public void Any_sign_of_traffic_since_the_scrape_scrapes_again()
    {
        var last = Scraped();
        var at = T0.AddSeconds(5);
        Assert.False(ScrapeReuse.MayReuse(last, Quiet() with { Arrivals = 8 }, 2, 0, at));
        Assert.False(ScrapeReuse.MayReuse(last, Quiet() with { InFlight = 1 }, 2, 0, at));
        Assert.False(ScrapeReuse.MayReuse(last, Quiet() with { Held = 1 }, 2, 0, at));
        Assert.False(ScrapeReuse.MayReuse(last, Quiet() with { GatewayLastRequestTime = LastRequest }, 2, 0, at));
    }

    [Fact]
    public void The_stores_last_request_time_is_compared_by_value_not_against_the_clock()
    {
        var last = Scraped();
        var at = T0.AddSeconds(5);
        // Another instance's clock may run behind this one: an earlier value is still a change.
        Assert.False(ScrapeReuse.MayReuse(last, Quiet() with { LastRequestTime = LastRequest.AddSeconds(-30) }, 2, 0, at));
        Assert.False(ScrapeReuse.MayReuse(last, Quiet() with { LastRequestTime = LastRequest.AddSeconds(1) }, 2, 0, at));
        Assert.False(ScrapeReuse.MayReuse(last, Quiet() with { LastRequestTime = null }, 2, 0, at));
        // Ahead of this clock but unchanged is no news.
        var ahead = ScrapeReuse.Remember(Quiet() with { LastRequestTime = T0.AddHours(1) }, ["r1", "r2"], true, 1, T0);
        Assert.True(ScrapeReuse.MayReuse(ahead, Quiet() with { LastRequestTime = T0.AddHours(1) }, 2, 0, at));
    }

    [Fact]
    public void A_changed_ready_set_scrapes_again()
    {
        var last = Scraped();
        var at = T0.AddSeconds(5);
        Assert.False(ScrapeReuse.MayReuse(last, Quiet("r1"), 2, 0, at));
        Assert.False(ScrapeReuse.MayReuse(last, Quiet("r1", "r2", "r3"), 2, 0, at));
        Assert.False(ScrapeReuse.MayReuse(last, Quiet("r1", "r3"), 2, 0, at));
        Assert.True(ScrapeReuse.MayReuse(last, Quiet("r2", "r1"), 2, 0, at));
    }

    [Fact]
    public void A_quiet_scrape_is_taken_again_on_its_turn_and_never_kept_past_its_age()
    {
        var last = Scraped();
        // Its turn: every sixth pass.
        Assert.False(ScrapeReuse.MayReuse(last, Quiet(), ScrapeReuse.RefreshEveryPasses, 0, T0.AddSeconds(5)));
        Assert.True(ScrapeReuse.MayReuse(last, Quiet(), ScrapeReuse.RefreshEveryPasses, 3, T0.AddSeconds(5)));
        Assert.False(ScrapeReuse.MayReuse(last, Quiet(), 3, 3, T0.AddSeconds(5)));
        // Never more than that many passes old, whatever the turn.
        Assert.False(ScrapeReuse.MayReuse(last, Quiet(), 1 + ScrapeReuse.RefreshEveryPasses, 5, T0.AddSeconds(5)));
        // Nor older than the age bound, however few passes ran.
        Assert.True(ScrapeReuse.MayReuse(last, Quiet(), 2, 0, T0 + ScrapeReuse.MaxAge - TimeSpan.FromTicks(1)));
        Assert.False(ScrapeReuse.MayReuse(last, Quiet(), 2, 0, T0 + ScrapeReuse.MaxAge));
        // A clock stepped back, or the same pass asking again, is no reason to trust it.
        Assert.False(ScrapeReuse.MayReuse(last, Quiet(), 2, 0, T0.AddSeconds(-1)));
        Assert.False(ScrapeReuse.MayReuse(last, Quiet(), 1, 0, T0));
    }

    [Fact]
    public void Turns_spread_the_refreshes_of_quiet_deployments_over_the_passes()
    {
        // Six deployments scraped together on pass 1, one per turn: each later pass refreshes one.
        var last = Scraped();
        for (var pass = 2; pass <= 7; pass++)
        {
            var refreshed = Enumerable.Range(0, ScrapeReuse.RefreshEveryPasses).Count(turn => !ScrapeReuse.MayReuse(last, Quiet(), pass, turn, T0.AddSeconds(1)));
            Assert.Equal(pass == 7 ? ScrapeReuse.RefreshEveryPasses : 1, refreshed);
        }
    }
}
