using System.CommandLine;
using Kiln.Server.Commands;
using Kiln.Server.Hosting;

namespace Kiln.Server.Tests.Hosting;

public sealed class GatewayWarmupTests : IDisposable
{
    private readonly string _scratch = Path.Combine(Path.GetTempPath(), "kiln-warmup-tests", Guid.NewGuid().ToString("N"));
    private readonly ServerOptions _options = new() { DataDir = Path.Combine(Path.GetTempPath(), "kiln-warmup-tests-unused") };

    public void Dispose()
    {
        if (Directory.Exists(_scratch)) Directory.Delete(_scratch, recursive: true);
    }

    [Fact]
    public async Task The_warm_up_proxies_every_request_it_sends_to_the_stand_in_replica_and_removes_its_scratch_store()
    {
        // A folder left by a warm-up killed long ago goes; a young one may be another instance's and stays.
        var leftover = Directory.CreateDirectory(Path.Combine(_scratch, "killed")).FullName;
        Directory.SetLastWriteTimeUtc(leftover, DateTime.UtcNow - GatewayWarmup.LeftoverAge - TimeSpan.FromMinutes(1));
        var running = Directory.CreateDirectory(Path.Combine(_scratch, "running")).FullName;

        // A budget a busy machine does not spend before the JIT goes quiet.
        var report = await GatewayWarmup.RunAsync(_options, _scratch, TimeSpan.FromSeconds(60), CancellationToken.None);

        Assert.Null(report.Stopped);
        Assert.True(report.Rounds >= 6, report.ToString());
        // Rounds of eight requests, each answered by the stand-in through the gateway (which is the
        // only way to it) and read whole by the client, streams to their [DONE].
        Assert.Equal(8 * report.Rounds, report.Requests);
        Assert.Equal(report.Requests, report.Proxied);
        Assert.Equal(report.Rounds, report.CompiledPerRound.Count);
        Assert.True(report.MethodsCompiled > 0 && report.CompileTime > TimeSpan.Zero, report.ToString());
        Assert.Equal([running], Directory.GetDirectories(_scratch));
        // Nothing is written in the data directory but under the scratch root it is given.
        Assert.False(Directory.Exists(_options.DataDir));
    }

    [Fact]
    public async Task A_warm_up_that_cannot_be_set_up_within_its_budget_throws_and_leaves_no_scratch_store()
    {
        // Too short to set up: a failure of the warm-up's own, which the server logs and goes on from.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => GatewayWarmup.RunAsync(_options, _scratch, TimeSpan.FromMilliseconds(1), CancellationToken.None));
        Assert.Empty(Directory.Exists(_scratch) ? Directory.GetDirectories(_scratch) : []);
    }

    [Fact]
    public void The_warm_up_flag_takes_a_non_negative_go_duration_and_names_itself_otherwise()
    {
        static string Errors(params string[] args)
        {
            var root = new RootCommand();
            root.Subcommands.Add(ServerCommand.Create());
            return string.Join("\n", root.Parse(["server", .. args]).Errors.Select(e => e.Message));
        }

        Assert.Empty(Errors("--gateway-warmup", "0"));
        Assert.Empty(Errors("--gateway-warmup", "2m30s"));
        Assert.Contains("--gateway-warmup:", Errors("--gateway-warmup", "soon"));
        Assert.Contains("--gateway-warmup:", Errors("--gateway-warmup", "10"));
        Assert.Contains("must not be negative", Errors("--gateway-warmup", "-1s"));
    }
}
