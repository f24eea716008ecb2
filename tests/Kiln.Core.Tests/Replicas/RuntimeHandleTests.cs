using Kiln.Core.Replicas;

namespace Kiln.Core.Tests.Replicas;

public class RuntimeHandleTests
{
    [Theory]
    [InlineData("pid:1234", RuntimeHandleKind.Process, "1234", "pid 1234")]
    [InlineData("slurm:5678", RuntimeHandleKind.SlurmJob, "5678", "Slurm job 5678")]
    [InlineData("slurm:12_3", RuntimeHandleKind.SlurmJob, "12_3", "Slurm job 12_3")]
    public void Round_trips_and_describes(string text, RuntimeHandleKind kind, string id, string described)
    {
        var handle = RuntimeHandle.Parse(text);
        Assert.Equal(new RuntimeHandle(kind, id), handle);
        Assert.Equal(text, handle!.ToString());
        Assert.Equal(described, handle.Describe());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("1234")]
    [InlineData("pid:")]
    [InlineData("pid:-1")]
    [InlineData("pid:0")]
    [InlineData("pid:12a")]
    [InlineData("slurm:")]
    [InlineData("slurm:1;rm")]
    [InlineData("k8s:pod")]
    public void Anything_else_is_no_handle(string? text) => Assert.Null(RuntimeHandle.Parse(text));

    [Fact]
    public void Each_kind_answers_only_for_itself()
    {
        Assert.Equal((42, (string?)null), (RuntimeHandle.Process(42).Pid, RuntimeHandle.Process(42).SlurmJobId));
        Assert.Equal(((int?)null, "42"), (RuntimeHandle.SlurmJob("42").Pid, RuntimeHandle.SlurmJob("42").SlurmJobId));
    }
}
