using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Kiln.Engine.Gguf;
using Kiln.Engine.Lora;
using Kiln.Engine.Models;
using static Kiln.ControlPlane.Tests.AddonFixtures;

namespace Kiln.ControlPlane.Tests;

/// <summary>
/// Addon uploads in both forms, and every way an upload or a deploy is refused, through the real
/// kilnctl against the real server.
/// </summary>
public class AddonErrorTests
{
    /// <summary>The engine's own words for the mismatched fixture on stories260K.</summary>
    private static string EngineMismatchMessage()
    {
        using var gguf = GgufFile.Open(SharedFiles.Model("stories260K.gguf"));
        var config = ModelConfig.FromGguf(gguf);
        var weights = LlamaWeights.Load(gguf, config);
        return Assert.Throws<LoraMismatchException>(() => LoraAdapter.Load(Lora("mismatch-lora.gguf")).Validate(config, weights)).Message;
    }

    [SharedFact]
    public async Task Uploads_are_validated_and_bad_deploys_are_refused()
    {
        using var server = await KilnServer.StartAsync("--max-addons-per-deployment", "2");
        var ctl = new Kilnctl(server.BaseUri, server.AdminKey, Kilnctl.NewConfigDir());
        await ctl.OkAsync("import", "model", "stories", "--from", SharedFiles.Model("stories260K.gguf"));
        await ctl.OkAsync("import", "model", "tiny", "--from", SharedFiles.Model("TinyStories-656K-Q8_0.gguf"));

        // Both forms become READY addons of their base.
        var qv = JsonNode.Parse(await ctl.OkAsync("create", "model", "qv", "--base-model", "stories", "--from", Lora("stories260K-lora-qv-r4.gguf"), "-o", "json"))!;
        Assert.Equal(("READY", "HF_PEFT_ADDON", "accounts/default/models/stories"), ((string?)qv["state"], (string?)qv["kind"], (string?)qv["baseModel"]));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Lora("stories260K-lora-qv-r4.gguf")))), (string?)qv["sha256"]);
        var peft = await ctl.OkAsync("create", "model", "all", "--base-model", "accounts/default/models/stories", "--from", Lora("stories260K-lora-all-r8-peft"));
        Assert.Contains("HF_PEFT_ADDON", peft);
        Assert.Contains("READY", peft);
        Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Lora("stories260K-lora-all-r8-peft/adapter_model.safetensors")))), peft);
        Assert.Matches(@"Base Model:\s+accounts/default/models/stories", await ctl.OkAsync("get", "model", "all"));
        Assert.True(File.Exists(Path.Combine(server.DataDir, "models", "default", "all", "adapter_model.safetensors")));

        // The mismatched adapter: 400 with the engine's message naming the first mismatch; nothing is left behind.
        var bad = await ctl.RunAsync("create", "model", "bad", "--base-model", "stories", "--from", Lora("mismatch-lora.gguf"));
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains($"kilnctl: INVALID_ARGUMENT: the addon does not fit base model accounts/default/models/stories: {EngineMismatchMessage()}", bad.Stderr);
        Assert.Contains("NOT_FOUND", (await ctl.RunAsync("get", "model", "bad")).Stderr);
        var onAddon = await ctl.RunAsync("create", "model", "x", "--base-model", "qv", "--from", Lora("stories260K-lora-qv-r4.gguf"));
        Assert.Contains("accounts/default/models/qv is itself an addon", onAddon.Stderr);
        var notAdapter = await ctl.RunAsync("create", "model", "y", "--base-model", "stories", "--from", SharedFiles.Model("stories260K.gguf"));
        Assert.Equal(1, notAdapter.ExitCode);
        Assert.Contains("not a valid LoRA adapter", notAdapter.Stderr);

        // A deployment of one addon serves it merged into its base, which needs float weights: an addon
        // of a quantized base is refused at create, with the way to serve it instead, and nothing is made.
        await ctl.OkAsync("create", "model", "tq", "--base-model", "tiny", "--from", Lora("tinystories656k-lora-qv-r4.gguf"));
        var unmergeable = await ctl.RunAsync("create", "deployment", "tq", "--deployment-id", "tq");
        Assert.Equal(1, unmergeable.ExitCode);
        Assert.Contains("INVALID_ARGUMENT: addon accounts/default/models/tq cannot be merged into base model accounts/default/models/tiny", unmergeable.Stderr);
        Assert.Contains("--enable-addons", unmergeable.Stderr);
        Assert.Contains("NOT_FOUND", (await ctl.RunAsync("get", "deployment", "tq")).Stderr);

        await ctl.OkAsync("create", "deployment", "tiny", "--deployment-id", "other", "--enable-addons");
        await ctl.OkAsync("create", "deployment", "stories", "--deployment-id", "plain");
        await ctl.OkAsync("create", "deployment", "stories", "--deployment-id", "tales", "--enable-addons");

        var otherBase = await ctl.RunAsync("deploy", "qv", "--deployment-id", "other");
        Assert.Equal(1, otherBase.ExitCode);
        Assert.Contains("kilnctl: FAILED_PRECONDITION: addon accounts/default/models/qv adapts base model accounts/default/models/stories, "
            + "but deployment accounts/default/deployments/other serves accounts/default/models/tiny", otherBase.Stderr);
        var disabled = await ctl.RunAsync("deploy", "qv", "--deployment-id", "plain");
        Assert.Equal(1, disabled.ExitCode);
        Assert.Contains("deployment accounts/default/deployments/plain does not have addons enabled", disabled.Stderr);
        Assert.Contains("is a HF_BASE_MODEL, not an addon", (await ctl.RunAsync("deploy", "stories", "--deployment-id", "tales")).Stderr);

        // The limit (2 here): a third addon is refused.
        await ctl.OkAsync("create", "model", "qv2", "--base-model", "stories", "--from", Lora("stories260K-lora-qv-r4-peft"));
        await ctl.OkAsync("deploy", "qv", "--deployment-id", "tales");
        await ctl.OkAsync("deploy", "all", "--deployment-id", "tales");
        var third = await ctl.RunAsync("deploy", "qv2", "--deployment-id", "tales");
        Assert.Equal(1, third.ExitCode);
        Assert.Contains("already serves 2 addon(s), its maxAddonCount (2); undeploy one first", third.Stderr);
        Assert.Contains("ALREADY_EXISTS", (await ctl.RunAsync("deploy", "qv", "--deployment-id", "tales")).Stderr);

        // A deployed addon, and a base with addons, cannot be deleted; nor can addons be switched off under them.
        var deleteDeployed = await ctl.RunAsync("delete", "model", "qv");
        Assert.Equal(1, deleteDeployed.ExitCode);
        Assert.Contains("FAILED_PRECONDITION", deleteDeployed.Stderr);
        Assert.Contains("FAILED_PRECONDITION", (await ctl.RunAsync("delete", "model", "stories")).Stderr);
        Assert.Contains("undeploy them before disabling addons", (await ctl.RunAsync("update", "deployment", "tales", "--enable-addons=false")).Stderr);

        // Deleting the deployment undeploys its addons; then they can go.
        await ctl.OkAsync("delete", "deployment", "tales");
        Assert.Contains("READY", await ctl.OkAsync("get", "model", "qv"));
        await ctl.OkAsync("delete", "model", "qv");
        Assert.False(Directory.Exists(Path.Combine(server.DataDir, "models", "default", "qv")));
    }
}
