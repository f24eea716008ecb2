using Kiln.Server.Hosting;

namespace Kiln.Server.Tests.Hosting;

public sealed class GatewayWarmupTests
{
    [Fact]
    public async Task The_warm_up_proxies_every_request_it_sends_to_the_stand_in_replica()
    {
        var options = new ServerOptions { DataDir = Path.Combine(Path.GetTempPath(), "kiln-warmup-tests-unused") };
        // A budget a busy machine does not spend before the JIT goes quiet.
        var report = await GatewayWarmup.RunAsync(options, TimeSpan.FromSeconds(60), CancellationToken.None);

        Assert.Null(report.Stopped);
        Assert.True(report.Rounds >= 6, report.ToString());
        // Rounds of eight requests, each answered by the stand-in through the gateway (which is the
        // only way to it) and read whole by the client, streams to their [DONE].
        Assert.Equal(8 * report.Rounds, report.Requests);
        Assert.Equal(report.Requests, report.Proxied);
        Assert.Equal(report.Rounds, report.CompiledPerRound.Count);
        Assert.True(report.MethodsCompiled > 0 && report.CompileTime > TimeSpan.Zero, report.ToString());
        // Its store is a scratch one: nothing is written in the data directory.
        Assert.False(Directory.Exists(options.DataDir));
    }

    [Fact]
    public async Task A_spent_budget_ends_the_warm_up_and_says_so()
    {
        var options = new ServerOptions { DataDir = Path.Combine(Path.GetTempPath(), "kiln-warmup-tests-unused") };
        // Too short to set up: a failure of the warm-up's own, which the server logs and goes on from.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => GatewayWarmup.RunAsync(options, TimeSpan.FromMilliseconds(1), CancellationToken.None));
    }
}
