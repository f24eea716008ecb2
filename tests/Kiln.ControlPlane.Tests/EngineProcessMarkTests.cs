using Kiln.Core.Deployments;
using Kiln.Runtime.Local;

namespace Kiln.ControlPlane.Tests;

/// <summary>The environment an engine process carries so that a restarted server can adopt it.</summary>
public class EngineProcessMarkTests
{
    private static readonly EngineProcessMark Mark = new("r-5f2c", "127.0.0.1", 41234, 2, "/data/models/m", Precision.Fp16, "/health", "vllm");

    [Fact]
    public void The_variables_read_back_as_the_same_mark()
    {
        var environment = Mark.Variables().Concat([new("PATH", "/usr/bin")]).ToDictionary();
        Assert.Equal(Mark, EngineProcessMark.Read(environment));
        Assert.Equal("r-5f2c", environment["KILN_REPLICA_ID"]);
    }

    [Theory]
    [InlineData("KILN_REPLICA_ENDPOINT", "no-port")]
    [InlineData("KILN_REPLICA_ENDPOINT", "127.0.0.1:-1")]
    [InlineData("KILN_REPLICA_WORLD_SIZE", "two")]
    [InlineData("KILN_REPLICA_PRECISION", "FP8")]
    [InlineData("KILN_REPLICA_MODEL", "")]
    public void A_damaged_or_missing_variable_is_no_mark(string name, string value)
    {
        var environment = Mark.Variables().ToDictionary();
        environment[name] = value;
        Assert.Null(EngineProcessMark.Read(environment));
        environment.Remove(name);
        Assert.Null(EngineProcessMark.Read(environment));
    }

    [Fact]
    public void A_process_without_the_mark_is_none()
    {
        Assert.Null(EngineProcessMark.Read(new Dictionary<string, string> { ["KILN_REPLICA_ID"] = "r-5f2c" }));
    }
}
