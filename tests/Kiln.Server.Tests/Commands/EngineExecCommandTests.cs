using System.CommandLine;
using Kiln.Server.Commands;

namespace Kiln.Server.Tests.Commands;

/// <summary><c>kiln engine-exec</c>'s flags: a bad one is an error naming it, before any engine starts.</summary>
public class EngineExecCommandTests
{
    private static string Errors(params string[] args)
    {
        var root = new RootCommand();
        root.Subcommands.Add(EngineExecCommand.Create());
        return string.Join("\n", root.Parse(["engine-exec", .. args]).Errors.Select(e => e.Message));
    }

    [Fact]
    public void A_well_formed_invocation_parses()
    {
        var dir = Path.GetTempPath();
        Assert.Empty(Errors("--endpoint-file", Path.Combine(dir, "r-1.endpoint"), "--", "vllm", "serve", "/m", "--port", "{port}"));
        Assert.Empty(Errors("--endpoint-file", Path.Combine(dir, "r-1.endpoint"), "--host", "::1", "--", "engine"));
        Assert.Empty(Errors("--endpoint-file", Path.Combine(dir, "r-1.endpoint"), "--host", "node-7.cluster", "--", "engine"));
    }

    [Fact]
    public void Bad_flags_are_refused_naming_them()
    {
        var file = Path.Combine(Path.GetTempPath(), "r-1.endpoint");
        Assert.Contains("--endpoint-file", Errors("--", "engine"));
        Assert.Contains("--endpoint-file: must be an absolute path, got 'r-1.endpoint'", Errors("--endpoint-file", "r-1.endpoint", "--", "engine"));
        Assert.Contains("--endpoint-file: its directory /no/such/dir does not exist on this node", Errors("--endpoint-file", "/no/such/dir/r-1.endpoint", "--", "engine"));
        Assert.Contains("--endpoint-file: must name a file", Errors("--endpoint-file", "/tmp/", "--", "engine"));
        Assert.Contains("--host: must be a host name or an IP address, got 'not a host'", Errors("--endpoint-file", file, "--host", "not a host", "--", "engine"));
        Assert.Contains("--host: must be a host name or an IP address, got ''", Errors("--endpoint-file", file, "--host", "", "--", "engine"));
        // No engine command at all.
        Assert.Contains("Required argument missing for command: 'engine-exec'", Errors("--endpoint-file", file));
    }

    [Fact]
    public async Task An_engine_that_cannot_run_exits_127_without_writing_the_endpoint_file()
    {
        var file = Path.Combine(Path.GetTempPath(), $"kiln-engine-exec-{Guid.NewGuid():N}.endpoint");
        var root = new RootCommand();
        root.Subcommands.Add(EngineExecCommand.Create());
        var code = await root.Parse(["engine-exec", "--endpoint-file", file, "--", "/no/such/engine-binary", "--port", "{port}"]).InvokeAsync();
        Assert.Equal(127, code);
        Assert.False(File.Exists(file));
    }
}
