using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;

namespace Kiln.ControlPlane.Tests;

/// <summary>
/// A fact that pipes exposition text through <c>promtool check metrics</c>. Without promtool it
/// skips only outside CI; under CI (<c>CI</c> set) it runs and fails, since .ci/run installs it.
/// </summary>
public sealed class PromtoolFactAttribute : FactAttribute
{
    public PromtoolFactAttribute()
    {
        if (SharedFiles.Root is null) Skip = SharedFiles.MissingMessage;
        else if (Promtool.Path is null && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI")))
            Skip = "promtool not found on PATH (Debian: apt-get install prometheus); under CI this test fails instead";
    }
}

public static class Promtool
{
    public static readonly string? Path = (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(d => System.IO.Path.Combine(d, "promtool"))
        .FirstOrDefault(File.Exists);

    /// <summary>Exit code and combined output of <c>promtool check metrics</c> over <paramref name="text"/>.</summary>
    public static async Task<(int ExitCode, string Output)> CheckMetricsAsync(string text)
    {
        Assert.True(Path is not null, "promtool not found on PATH: .ci/run installs it (Debian package prometheus)");
        var psi = new ProcessStartInfo(Path!, "check metrics")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.StandardInput.WriteAsync(text);
        p.StandardInput.Close();
        await p.WaitForExitAsync();
        return (p.ExitCode, (await stdout + await stderr).Trim());
    }
}

/// <summary>The server's and a replica's <c>/metrics</c> are valid, lint-clean Prometheus exposition.</summary>
public class MetricsExpositionTests
{
    private const string Stories = "accounts/default/models/stories";
    private const string Deployment = "accounts/default/deployments/prom";

    [PromtoolFact]
    public async Task Server_and_replica_metrics_pass_promtool()
    {
        using var server = await KilnServer.StartAsync();
        using var api = new Api(server.BaseUri, server.AdminKey);
        using var inference = new Inference(server.BaseUri, server.AdminKey);
        await Steps.ImportAsync(api, "default", "stories", TestModels.Stories260K());
        var created = await api.PostAsync("/v1/accounts/default/deployments?deploymentId=prom", new { baseModel = Stories, minReplicaCount = 1 });
        Assert.True(created.Status == HttpStatusCode.OK, created.ToString());
        var ready = await Steps.WaitForAsync(api, "/v1/accounts/default/deployments/prom", r => r.ReadyReplicas().Count == 1, "prom READY");
        for (var i = 0; i < 3; i++)
        {
            var r = await inference.PostAsync("/v1/completions", new { model = Deployment, prompt = "Once", max_tokens = 4 });
            Assert.True(r.Status == HttpStatusCode.OK, r.Body.ToString());
        }

        using var http = new HttpClient();
        var (replicaId, _, port) = ready.ReadyReplicas().Single();
        var replicaText = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
        http.DefaultRequestHeaders.Authorization = new("Bearer", server.AdminKey);
        var serverText = await http.GetStringAsync(new Uri(server.BaseUri, "/metrics"));

        var replicaCheck = await Promtool.CheckMetricsAsync(replicaText);
        Assert.True(replicaCheck.ExitCode == 0 && replicaCheck.Output.Length == 0, $"replica /metrics: {replicaCheck.Output}\n{replicaText}");
        var serverCheck = await Promtool.CheckMetricsAsync(serverText);
        Assert.True(serverCheck.ExitCode == 0 && serverCheck.Output.Length == 0, $"server /metrics: {serverCheck.Output}\n{serverText}");

        // Every replica family is re-exported once, with the replica's HELP and its samples relabelled.
        var replicaFamilies = Regex.Matches(replicaText, "^# HELP (\\S+) (.*)$", RegexOptions.Multiline);
        Assert.NotEmpty(replicaFamilies);
        foreach (Match help in replicaFamilies)
        {
            Assert.Single(Regex.Matches(serverText, $"^# HELP {help.Groups[1].Value} ", RegexOptions.Multiline));
            Assert.Contains(help.Value, serverText);
            Assert.Single(Regex.Matches(serverText, $"^# TYPE {help.Groups[1].Value} ", RegexOptions.Multiline));
        }
        Assert.Contains($"kiln_requests_total{{deployment=\"{Deployment}\",replica=\"{replicaId}\",finish_reason=\"length\"}} ", serverText);
        // Scraped when asked, not the autoscaler's older scrape: all three requests are in.
        Assert.Contains($"kiln_time_to_first_token_seconds_count{{deployment=\"{Deployment}\",replica=\"{replicaId}\"}} 3", serverText);
        await api.DeleteAsync("/v1/accounts/default/deployments/prom");
    }
}
