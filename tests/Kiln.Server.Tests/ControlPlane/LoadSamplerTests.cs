using Kiln.Core.Engines;
using Kiln.Core.Names;
using Kiln.Server.ControlPlane.Controllers;
using Kiln.Server.Gateway;

namespace Kiln.Server.Tests.ControlPlane;

public class LoadSamplerTests
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DeploymentRoute Route = new(new DeploymentName("acme", "web"), 8);

    private static List<(string, PrometheusScrape)> Scrape(double generated, double prompt) =>
    [
        ("r1", PrometheusText.Parse($"kiln_active_sequences 0\nkiln_queue_depth 0\nkiln_generated_tokens_total {generated}\nkiln_prompt_tokens_total {prompt}\n")),
    ];

    [Fact]
    public void Token_rates_come_from_counter_differences_between_scrapes()
    {
        var sampler = new LoadSampler();
        sampler.Take(T0, Route, Scrape(100, 40), EngineProfiles.Kiln, reused: false);
        var sample = sampler.Take(T0.AddSeconds(5), Route, Scrape(600, 90), EngineProfiles.Kiln, reused: false);
        Assert.Equal((100d, 10d), (sample.TokensGeneratedPerSecond, sample.PromptTokensPerSecond));
    }

    [Fact]
    public void A_reused_scrape_adds_no_tokens_and_the_next_real_one_is_rated_over_the_whole_time_since_the_last()
    {
        var sampler = new LoadSampler();
        var quiet = Scrape(100, 40);
        sampler.Take(T0, Route, quiet, EngineProfiles.Kiln, reused: false);
        for (var i = 1; i <= 3; i++)
        {
            var reused = sampler.Take(T0.AddSeconds(5 * i), Route, quiet, EngineProfiles.Kiln, reused: true);
            Assert.Equal((0d, 0d), (reused.TokensGeneratedPerSecond, reused.PromptTokensPerSecond));
        }
        // 20 s since the scrape the counters are measured from, not the 5 s since the last sample.
        var sample = sampler.Take(T0.AddSeconds(20), Route, Scrape(500, 240), EngineProfiles.Kiln, reused: false);
        Assert.Equal((20d, 10d), (sample.TokensGeneratedPerSecond, sample.PromptTokensPerSecond));
    }

    [Fact]
    public void Request_rates_are_taken_every_pass_reused_or_not()
    {
        var route = new DeploymentRoute(new DeploymentName("acme", "web"), 8);
        var sampler = new LoadSampler();
        var quiet = Scrape(0, 0);
        sampler.Take(T0, route, quiet, EngineProfiles.Kiln, reused: false);
        for (var i = 0; i < 10; i++)
        {
            route.Counters.Arrive();
        }
        Assert.Equal(2, sampler.Take(T0.AddSeconds(5), route, quiet, EngineProfiles.Kiln, reused: true).RequestsPerSecond);
    }
}
