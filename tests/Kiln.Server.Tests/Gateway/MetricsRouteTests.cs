using System.Text.RegularExpressions;
using Kiln.Core.Names;
using Kiln.Server.Gateway;

namespace Kiln.Server.Tests.Gateway;

public class MetricsRouteTests
{
    private const string Replica = """
        # HELP kiln_requests_total Finished sequences (one per choice) by finish reason.
        # TYPE kiln_requests_total counter
        kiln_requests_total{finish_reason="stop"} {N}
        kiln_requests_total{finish_reason="length"} 1
        # HELP kiln_ttft_seconds Time from submission to the first sampled token.
        # TYPE kiln_ttft_seconds histogram
        kiln_ttft_seconds_bucket{le="0.5"} {N}
        kiln_ttft_seconds_bucket{le="+Inf"} {N}
        kiln_ttft_seconds_sum 0.25
        kiln_ttft_seconds_count {N}

        """;

    private static ReplicaScrape Scrape(string deployment, string replica, int n, bool live) =>
        new(DeploymentName.Parse(deployment), replica, PrometheusText.Parse(Replica.Replace("{N}", n.ToString(), StringComparison.Ordinal)),
            DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123), live);

    [Fact]
    public void Replica_families_come_once_with_help_and_each_replicas_samples_together()
    {
        var text = MetricsRoute.Render([], [
            Scrape("accounts/b/deployments/y", "r-2", 7, live: false),
            Scrape("accounts/a/deployments/x", "r-1", 5, live: true),
        ]);

        foreach (var family in new[] { "kiln_requests_total", "kiln_ttft_seconds" })
        {
            Assert.Single(Regex.Matches(text, $"^# TYPE {family} ", RegexOptions.Multiline));
            Assert.Single(Regex.Matches(text, $"^# HELP {family} ", RegexOptions.Multiline));
        }
        Assert.Contains("# HELP kiln_ttft_seconds Time from submission to the first sampled token.\n# TYPE kiln_ttft_seconds histogram\n", text);

        // Live samples carry no timestamp; the fallback's carry its scrape's time.
        var histogram = text[text.IndexOf("# TYPE kiln_ttft_seconds", StringComparison.Ordinal)..].Split('\n').Skip(1).Where(l => l.Length > 0).ToList();
        Assert.Equal([
            "kiln_ttft_seconds_bucket{deployment=\"accounts/a/deployments/x\",replica=\"r-1\",le=\"0.5\"} 5",
            "kiln_ttft_seconds_bucket{deployment=\"accounts/a/deployments/x\",replica=\"r-1\",le=\"+Inf\"} 5",
            "kiln_ttft_seconds_sum{deployment=\"accounts/a/deployments/x\",replica=\"r-1\"} 0.25",
            "kiln_ttft_seconds_count{deployment=\"accounts/a/deployments/x\",replica=\"r-1\"} 5",
            "kiln_ttft_seconds_bucket{deployment=\"accounts/b/deployments/y\",replica=\"r-2\",le=\"0.5\"} 7 1700000000123",
            "kiln_ttft_seconds_bucket{deployment=\"accounts/b/deployments/y\",replica=\"r-2\",le=\"+Inf\"} 7 1700000000123",
            "kiln_ttft_seconds_sum{deployment=\"accounts/b/deployments/y\",replica=\"r-2\"} 0.25 1700000000123",
            "kiln_ttft_seconds_count{deployment=\"accounts/b/deployments/y\",replica=\"r-2\"} 7 1700000000123",
        ], histogram);
    }

    [Fact]
    public void Parse_keeps_help_as_written()
    {
        var scrape = PrometheusText.Parse("# HELP m Two\\nlines, a \\\\ backslash.\n# HELP bare\n# TYPE m gauge\nm 1\n");
        Assert.Equal("Two\\nlines, a \\\\ backslash.", scrape.Helps!["m"]);
        Assert.Equal("", scrape.Helps["bare"]);
    }
}
