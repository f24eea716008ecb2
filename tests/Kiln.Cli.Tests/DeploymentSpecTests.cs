using Kiln.Cli;
using Kiln.Cli.Commands;

namespace Kiln.Cli.Tests;

public class DeploymentSpecTests
{
    [Fact]
    public void NoFlagsSendsNothing() => Assert.Equal("{}", DeploymentSpec.Build(new DeploymentSpecInput()).ToJsonString());

    [Fact]
    public void OnlyGivenFlagsAreSent()
    {
        var body = DeploymentSpec.Build(new DeploymentSpecInput { MinReplicaCount = "2", ScaleDownWindow = "5m" });
        Assert.Equal("""{"minReplicaCount":2,"autoscalingPolicy":{"scaleDownWindow":"300s"}}""", body.ToJsonString());
    }

    [Fact]
    public void EveryFlagMapsToItsApiField()
    {
        var body = DeploymentSpec.Build(new DeploymentSpecInput
        {
            DisplayName = "Chat",
            MinReplicaCount = "1",
            MaxReplicaCount = "3",
            ScaleUpWindow = "1m30s",
            ScaleDownWindow = "10m",
            ScaleToZeroWindow = "1.5h",
            UnusedAutoDeleteDuration = "0",
            WorldSize = "4",
            AcceleratorType = "nvidia_h100_80gb",
            EnableAddons = true,
            Precision = "fp16",
        });
        Assert.Equal(
            """{"displayName":"Chat","minReplicaCount":1,"maxReplicaCount":3,"autoscalingPolicy":{"scaleUpWindow":"90s","scaleDownWindow":"600s","scaleToZeroWindow":"5400s"},"unusedAutoDeleteDuration":"0s","acceleratorType":"NVIDIA_H100_80GB","acceleratorCount":4,"enableAddons":true,"precision":"FP16"}""",
            body.ToJsonString());
    }

    [Fact]
    public void SubSecondDurationsUseFractionalSeconds() =>
        Assert.Equal("""{"autoscalingPolicy":{"scaleUpWindow":"0.500s"}}""",
            DeploymentSpec.Build(new DeploymentSpecInput { ScaleUpWindow = "500ms" }).ToJsonString());

    [Fact]
    public void EnableAddonsFalseIsSent() =>
        Assert.Equal("""{"enableAddons":false}""", DeploymentSpec.Build(new DeploymentSpecInput { EnableAddons = false }).ToJsonString());

    [Theory]
    [InlineData("--min-replica-count", "-1", "--min-replica-count: invalid value \"-1\" (expected a non-negative integer)")]
    [InlineData("--min-replica-count", "1.5", "--min-replica-count: invalid value \"1.5\" (expected a non-negative integer)")]
    [InlineData("--max-replica-count", "two", "--max-replica-count: invalid value \"two\" (expected a non-negative integer)")]
    [InlineData("--scale-up-window", "abc", "--scale-up-window: invalid duration \"abc\" (use Go duration syntax such as 30s, 10m, 1h30m)")]
    [InlineData("--scale-down-window", "10", "--scale-down-window: invalid duration \"10\" (use Go duration syntax such as 30s, 10m, 1h30m)")]
    [InlineData("--scale-to-zero-window", "-1h", "--scale-to-zero-window: duration must not be negative, got \"-1h\"")]
    [InlineData("--unused-auto-delete-duration", "1w", "--unused-auto-delete-duration: invalid duration \"1w\" (use Go duration syntax such as 30s, 10m, 1h30m)")]
    [InlineData("--world-size", "3", "--world-size: invalid value \"3\" (expected a power of two from 1 to 8: 1, 2, 4 or 8)")]
    [InlineData("--world-size", "16", "--world-size: invalid value \"16\" (expected a power of two from 1 to 8: 1, 2, 4 or 8)")]
    [InlineData("--world-size", "0", "--world-size: invalid value \"0\" (expected a power of two from 1 to 8: 1, 2, 4 or 8)")]
    [InlineData("--accelerator-type", "TPU", "--accelerator-type: unknown accelerator type \"TPU\" (allowed: NVIDIA_A100_80GB, NVIDIA_H100_80GB, NVIDIA_H200_141GB, NVIDIA_B200_180GB, AMD_MI300X_192GB, NVIDIA_A10G_24GB, NVIDIA_L4_24GB, NVIDIA_A100_40GB, CPU)")]
    [InlineData("--precision", "FP8", "--precision: unknown precision \"FP8\" (allowed: FP32, FP16)")]
    [InlineData("--precision", "PRECISION_UNSPECIFIED", "--precision: unknown precision \"PRECISION_UNSPECIFIED\" (allowed: FP32, FP16)")]
    public void BadValuesNameTheFlag(string flag, string value, string expected)
    {
        var input = flag switch
        {
            "--min-replica-count" => new DeploymentSpecInput { MinReplicaCount = value },
            "--max-replica-count" => new DeploymentSpecInput { MaxReplicaCount = value },
            "--scale-up-window" => new DeploymentSpecInput { ScaleUpWindow = value },
            "--scale-down-window" => new DeploymentSpecInput { ScaleDownWindow = value },
            "--scale-to-zero-window" => new DeploymentSpecInput { ScaleToZeroWindow = value },
            "--unused-auto-delete-duration" => new DeploymentSpecInput { UnusedAutoDeleteDuration = value },
            "--world-size" => new DeploymentSpecInput { WorldSize = value },
            "--precision" => new DeploymentSpecInput { Precision = value },
            _ => new DeploymentSpecInput { AcceleratorType = value },
        };
        var error = Assert.Throws<UsageException>(() => DeploymentSpec.Build(input));
        Assert.Equal(expected, error.Message);
    }

    [Fact]
    public void MaxBelowMinNamesBothFlags()
    {
        var error = Assert.Throws<UsageException>(() =>
            DeploymentSpec.Build(new DeploymentSpecInput { MinReplicaCount = "3", MaxReplicaCount = "2" }));
        Assert.Equal("--max-replica-count (2) must not be less than --min-replica-count (3)", error.Message);
    }

    [Fact]
    public void ReportsEveryBadFlagAtOnce()
    {
        var error = Assert.Throws<UsageException>(() =>
            DeploymentSpec.Build(new DeploymentSpecInput { MinReplicaCount = "x", WorldSize = "5", ScaleUpWindow = "y" }));
        var lines = error.Message.Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("--min-replica-count:", lines[0]);
        Assert.StartsWith("--scale-up-window:", lines[1]);
        Assert.StartsWith("--world-size:", lines[2]);
    }
}
