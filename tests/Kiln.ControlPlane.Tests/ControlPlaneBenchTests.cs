using Kiln.Tests.Shared;

namespace Kiln.ControlPlane.Tests;

/// <summary>
/// <c>kiln bench control-plane</c> through the real binary. The bench checks on its own that every
/// replica was started and reached the routing table, so a run that exits 0 reconciled them all.
/// </summary>
public class ControlPlaneBenchTests
{
    private static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args) => KilnBinary.RunAsync(args);

    [Fact]
    public async Task It_reconciles_scales_and_routes_every_simulated_replica_and_prints_a_row_per_size()
    {
        var run = await RunAsync("bench", "control-plane", "--deployments", "3,40", "--replicas", "2", "--passes", "1");
        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        var rows = run.Stdout.Split('\n').Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(f => f.Length > 0).ToList();
        Assert.Contains(rows, f => f[0] == "3" && f.Length == 31);
        Assert.Contains(rows, f => f[0] == "40" && f.Length == 31);
    }

    [PostgresFact]
    public async Task It_runs_on_postgresql_in_a_scratch_database()
    {
        var run = await RunAsync("bench", "control-plane", "--deployments", "4", "--replicas", "2", "--passes", "1", "--store", PostgresServer.CreateDatabase());
        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        Assert.Contains("store: PostgreSQL", run.Stdout);
        Assert.Contains(run.Stdout.Split('\n'), l => l.TrimStart().StartsWith("4 ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_bad_size_list_names_the_flag()
    {
        var run = await RunAsync("bench", "control-plane", "--deployments", "10,x");
        Assert.Equal(2, run.ExitCode); // a bad flag, as for every kiln command
        Assert.Contains("--deployments must be positive integers", run.Stderr);
    }
}
