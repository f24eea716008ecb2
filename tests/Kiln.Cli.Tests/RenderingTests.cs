using Kiln.Cli.Commands;
using Kiln.Cli.Formatting;

namespace Kiln.Cli.Tests;

public class RenderingTests
{
    [Fact]
    public void DeploymentTextIsAlignedFirectlStyle()
    {
        var text = DeploymentText.Render(Samples.Deployment());
        Assert.Equal("""
            Name:                        accounts/acme/deployments/chat
            Display Name:                Chat
            Create Time:                 2026-11-21T09:30:00.000Z
            Update Time:                 2026-11-21T09:31:00.000Z
            Expire Time:                 2026-11-28T09:30:00.500Z
            Created By:                  key-1
            State:                       READY
            Status:                      OK
            Base Model:                  accounts/acme/models/llama
            Min Replica Count:           0
            Max Replica Count:           1
            Desired Replica Count:       1
            Replica Count:               1
            Replica Stats:
              Pending Scheduling: 0
              Downloading Model:  0
              Initializing:       0
              Ready:              1
            Autoscaling Policy:
              Scale Up Window:      30s
              Scale Down Window:    10m0s
              Scale To Zero Window: 1h0m0s
              Load Targets:         default=0.8
            Accelerator Type:            NVIDIA_A100_80GB
            Accelerator Count:           1
            Precision:                   FP32
            Engine:                      kiln
            Unused Auto Delete Duration: 168h0m0s
            Enable Addons:               false
            Events:
              2026-11-21T09:30:00.000Z  NORMAL  created
              2026-11-21T09:31:00.000Z  NORMAL  replica 1 ready

            """.ReplaceLineEndings("\n"), text);
    }

    [Fact]
    public void DisabledAutoDeleteAndFailureStatusAreSpelledOut()
    {
        var d = Samples.Deployment(state: "FAILED", statusMessage: "model failed to load");
        d["unusedAutoDeleteDuration"] = "0s";
        var text = DeploymentText.Render(d);
        Assert.Contains("Status:                      FAILED_PRECONDITION: model failed to load\n", text);
        Assert.Contains("Unused Auto Delete Duration: 0s (disabled)\n", text);
    }

    [Fact]
    public void DeploymentTableShowsReadyOverDesired()
    {
        var text = DeploymentText.RenderTable([Samples.Deployment("CREATING", 0, 2, id: "a"), Samples.Deployment(id: "bb")]);
        Assert.Equal("""
            NAME                           STATE      REPLICAS   ENGINE   BASE MODEL                   CREATE TIME
            accounts/acme/deployments/a    CREATING   0/2        kiln     accounts/acme/models/llama   2026-11-21T09:30:00.000Z
            accounts/acme/deployments/bb   READY      1/1        kiln     accounts/acme/models/llama   2026-11-21T09:30:00.000Z

            """.ReplaceLineEndings("\n"), text);
    }

    [Fact]
    public void ModelTextShowsDeployedStateAndItsDeployment()
    {
        var text = ModelText.Render(Samples.Model("DEPLOYED"));
        Assert.Equal("""
            Name:           accounts/acme/models/llama
            Display Name:   Llama
            Kind:           HF_BASE_MODEL
            State:          DEPLOYED
            Architecture:   llama
            Context Length: 2048
            Size:           25.2 MB (25165824 bytes)
            SHA-256:        ab12
            Create Time:    2026-11-21T09:00:00.000Z
            Update Time:    2026-11-21T09:01:00.000Z
            Deployments:
              accounts/acme/deployments/chat  DEPLOYED

            """.ReplaceLineEndings("\n"), text);
    }

    [Fact]
    public void ModelTable()
    {
        var text = ModelText.RenderTable([Samples.Model()]);
        Assert.Equal("""
            NAME                         KIND            STATE   SIZE      CREATE TIME
            accounts/acme/models/llama   HF_BASE_MODEL   READY   25.2 MB   2026-11-21T09:00:00.000Z

            """.ReplaceLineEndings("\n"), text);
    }

    [Fact]
    public void WaitStatusLineShowsStateAndReplicaCounts()
    {
        Assert.Equal("State: CREATING  replicas 0/1 ready (1 initializing)",
            DeploymentWaiter.Describe(Samples.Deployment("CREATING", 0, 1, initializing: 1)));
        Assert.Equal("State: READY  replicas 1/1 ready", DeploymentWaiter.Describe(Samples.Deployment()));
    }

    [Fact]
    public void ProgressLineShowsPercentBytesAndRate()
    {
        var line = TransferProgress.Line("Uploading", 50_000_000, 100_000_000, TimeSpan.FromSeconds(2));
        Assert.Equal("Uploading  50% [============>           ] 50.0 MB / 100.0 MB  25.0 MB/s", line);
    }
}
