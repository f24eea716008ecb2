using System.CommandLine;
using Kiln.Server.Cli;
using Kiln.Server.Commands;

namespace Kiln.Server.Tests.Replica.Download;

/// <summary>The download flags of <c>kiln replica</c> and <c>kiln server</c>: bad values are errors naming the flag.</summary>
public class DownloadFlagsTests
{
    private static readonly string Sha = new('a', 64);

    private static string Errors(Command command, params string[] args)
    {
        var root = new RootCommand();
        root.Subcommands.Add(command);
        return string.Join("\n", root.Parse(args).Errors.Select(e => e.Message));
    }

    [Fact]
    public void A_downloading_replica_needs_no_model_file_yet_but_every_download_flag()
    {
        var replica = KilnCommand.Create(_ => throw new InvalidOperationException("not used")).Subcommands.Single();
        Assert.Empty(Errors(replica, "replica", "--model-url", "http://cp:8420/x:download", "--model-sha256", Sha, "--model-cache", "/var/tmp/c"));
        Assert.Empty(Errors(replica, "replica", "--model", "/not/there/yet.gguf", "--model-url", "http://cp/x", "--model-sha256", Sha, "--model-cache", "/c",
            "--model-cache-max-bytes", "1000000"));
        Assert.Contains("--model-sha256 is required", Errors(replica, "replica", "--model-url", "http://cp/x", "--model-cache", "/c"));
        Assert.Contains("--model-sha256 must be 64 lowercase hex digits", Errors(replica, "replica", "--model-url", "http://cp/x", "--model-sha256", "xyz", "--model-cache", "/c"));
        Assert.Contains("--model-cache-max-bytes must be a whole number", Errors(replica, "replica", "--model-url", "http://cp/x", "--model-sha256", Sha,
            "--model-cache", "/c", "--model-cache-max-bytes", "-5"));
        Assert.Contains("--model", Errors(replica, "replica"));
    }

    [Fact]
    public void Server_distribution_flags_are_checked_together()
    {
        Assert.Empty(Errors(ServerCommand.Create(), "server", "--model-distribution", "download", "--model-cache", "/var/tmp/c", "--model-cache-max-bytes", "5000000000"));
        Assert.Empty(Errors(ServerCommand.Create(), "server", "--model-share", "/shared/models"));
        Assert.Contains("--model-distribution: must be local, shared, download, got 'p2p'", Errors(ServerCommand.Create(), "server", "--model-distribution", "p2p"));
        Assert.Contains("--model-share: must be an absolute directory path", Errors(ServerCommand.Create(), "server", "--model-share", "models"));
        Assert.Contains("--model-share: only with --model-distribution shared", Errors(ServerCommand.Create(), "server", "--model-share", "/s", "--model-distribution", "download"));
        Assert.Contains("--model-cache: must be an absolute directory path", Errors(ServerCommand.Create(), "server", "--model-cache", "cache"));
        Assert.Contains("--model-cache-max-bytes: must be a whole number >= 1", Errors(ServerCommand.Create(), "server", "--model-cache-max-bytes", "0"));
        Assert.Contains("--advertise-url: must be an absolute http(s) URL", Errors(ServerCommand.Create(), "server", "--advertise-url", "cp:8420"));
    }
}
