using System.Net;
using System.Text.Json.Nodes;
using static Kiln.ControlPlane.Tests.AddonFixtures;

namespace Kiln.ControlPlane.Tests;

/// <summary>A server (addon limit 3 by flag) with stories260K and three of its addons, shared by the addon limit tests.</summary>
public sealed class AddonServer : IAsyncLifetime
{
    public const string Deployments = "/v1/accounts/default/deployments";
    public KilnServer Server { get; private set; } = null!;
    public Api Api { get; private set; } = null!;
    public Kilnctl Ctl { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await KilnServer.StartAsync("--max-addons-per-deployment", "3");
        Api = new Api(Server.BaseUri, Server.AdminKey);
        Ctl = new Kilnctl(Server.BaseUri, Server.AdminKey, Kilnctl.NewConfigDir());
        await Ctl.OkAsync("import", "model", "stories", "--from", SharedFiles.Model("stories260K.gguf"));
        await Ctl.OkAsync("create", "model", "qv", "--base-model", "stories", "--from", Lora("stories260K-lora-qv-r4.gguf"));
        await Ctl.OkAsync("create", "model", "all", "--base-model", "stories", "--from", Lora("stories260K-lora-all-r8-peft"));
        await Ctl.OkAsync("create", "model", "qv2", "--base-model", "stories", "--from", Lora("stories260K-lora-qv-r4-peft"));
    }

    /// <summary>Deploys an addon over REST and returns the answer.</summary>
    public Task<Api.Reply> DeployAsync(string addon, string deployment) =>
        Api.PostAsync("/v1/accounts/default/deployedModels", new { model = $"accounts/default/models/{addon}", deployment = $"accounts/default/deployments/{deployment}" });

    public Task DisposeAsync()
    {
        Api?.Dispose();
        Server?.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>
/// Per-deployment addon limits (maxAddonCount), deleting a deployed addon, and an addon the
/// replicas cannot load: over REST and through kilnctl.
/// </summary>
public class AddonLimitTests(AddonServer fx) : IClassFixture<AddonServer>
{
    private const string Prompt = "Once upon a time";

    [SharedFact]
    public async Task Max_addon_count_over_rest_defaults_to_the_server_flag_is_validated_and_enforced()
    {
        var plain = await fx.Api.PostAsync($"{AddonServer.Deployments}?deploymentId=lim-default", new { baseModel = "stories", enableAddons = true });
        Assert.True(plain.Status == HttpStatusCode.OK, plain.ToString());
        Assert.Equal(3, plain.Int("maxAddonCount"));

        foreach (var bad in new[] { 0, -1 })
        {
            var refused = await fx.Api.PostAsync($"{AddonServer.Deployments}?deploymentId=lim-bad", new { baseModel = "stories", maxAddonCount = bad });
            Assert.Equal((HttpStatusCode.BadRequest, "INVALID_ARGUMENT"), (refused.Status, refused.Code));
            Assert.Equal($"maxAddonCount: must be between 1 and 1000, got {bad}", refused.Message);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await fx.Api.GetAsync($"{AddonServer.Deployments}/lim-bad")).Status);

        var one = await fx.Api.PostAsync($"{AddonServer.Deployments}?deploymentId=lim-one", new { baseModel = "stories", enableAddons = true, maxAddonCount = 1 });
        Assert.True(one.Status == HttpStatusCode.OK, one.ToString());
        Assert.Equal(1, one.Int("maxAddonCount"));
        Assert.Equal(1, (await fx.Api.GetAsync($"{AddonServer.Deployments}/lim-one")).Int("maxAddonCount"));
        var listed = (await fx.Api.GetAsync($"{AddonServer.Deployments}?filter=name:\"lim-\"")).Body.GetProperty("deployments").EnumerateArray()
            .ToDictionary(d => d.GetProperty("name").GetString()!, d => d.GetProperty("maxAddonCount").GetInt32());
        Assert.Equal(1, listed["accounts/default/deployments/lim-one"]);
        Assert.Equal(3, listed["accounts/default/deployments/lim-default"]);
        var filtered = await fx.Api.GetAsync($"{AddonServer.Deployments}?filter=max_addon_count < 3 AND name:\"lim-\"");
        Assert.Equal("accounts/default/deployments/lim-one", Assert.Single(filtered.Body.GetProperty("deployments").EnumerateArray()).GetProperty("name").GetString());

        Assert.Equal(HttpStatusCode.OK, (await fx.DeployAsync("qv", "lim-one")).Status);
        var full = await fx.DeployAsync("all", "lim-one");
        Assert.Equal((HttpStatusCode.BadRequest, "FAILED_PRECONDITION"), (full.Status, full.Code));
        Assert.Contains("deployment accounts/default/deployments/lim-one already serves 1 addon(s), its maxAddonCount (1)", full.Message);

        var zero = await fx.Api.PatchAsync($"{AddonServer.Deployments}/lim-one", new { maxAddonCount = 0 });
        Assert.Equal((HttpStatusCode.BadRequest, "maxAddonCount: must be between 1 and 1000, got 0"), (zero.Status, zero.Message));
        var raised = await fx.Api.PatchAsync($"{AddonServer.Deployments}/lim-one", new { maxAddonCount = 2 });
        Assert.Equal(2, raised.Int("maxAddonCount"));
        Assert.Equal(HttpStatusCode.OK, (await fx.DeployAsync("all", "lim-one")).Status);
        var lower = await fx.Api.PatchAsync($"{AddonServer.Deployments}/lim-one", new { maxAddonCount = 1 });
        Assert.Equal((HttpStatusCode.BadRequest, "FAILED_PRECONDITION"), (lower.Status, lower.Code));
        Assert.Contains("serves 2 addon(s); undeploy some before lowering maxAddonCount to 1", lower.Message);

        // Masked without a value: back to the server's default.
        var reset = await fx.Api.PatchAsync($"{AddonServer.Deployments}/lim-one?updateMask=maxAddonCount", new { });
        Assert.Equal(3, reset.Int("maxAddonCount"));
        foreach (var d in new[] { "lim-one", "lim-default" })
        {
            Assert.Equal(HttpStatusCode.OK, (await fx.Api.DeleteAsync($"{AddonServer.Deployments}/{d}")).Status);
        }
    }

    [SharedFact]
    public async Task Kilnctl_max_addon_count_flag_is_sent_shown_and_checked()
    {
        var bad = await fx.Ctl.RunAsync("create", "deployment", "stories", "--deployment-id", "cap", "--enable-addons", "--max-addon-count", "0");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--max-addon-count: invalid value \"0\" (expected an integer from 1 to 1000)", bad.Stderr);

        await fx.Ctl.OkAsync("create", "deployment", "stories", "--deployment-id", "cap", "--enable-addons", "--max-addon-count", "1");
        Assert.Matches(@"Max Addon Count:\s+1\n", await fx.Ctl.OkAsync("get", "deployment", "cap"));
        await fx.Ctl.OkAsync("deploy", "qv", "--deployment-id", "cap");
        var full = await fx.Ctl.RunAsync("deploy", "qv2", "--deployment-id", "cap");
        Assert.Equal(1, full.ExitCode);
        Assert.Contains("kilnctl: FAILED_PRECONDITION: deployment accounts/default/deployments/cap already serves 1 addon(s), its maxAddonCount (1); "
            + "undeploy one first or raise it (kilnctl update deployment cap --max-addon-count N)", full.Stderr);

        await fx.Ctl.OkAsync("update", "deployment", "cap", "--max-addon-count", "2");
        Assert.Equal(2, (int)JsonNode.Parse(await fx.Ctl.OkAsync("get", "deployment", "cap", "-o", "json"))!["maxAddonCount"]!);
        await fx.Ctl.OkAsync("deploy", "qv2", "--deployment-id", "cap");
        await fx.Ctl.OkAsync("delete", "deployment", "cap");
    }

    [SharedFact]
    public async Task Deleting_a_deployed_addon_names_the_undeploy_call_over_rest_and_in_kilnctl()
    {
        Assert.Equal(HttpStatusCode.OK, (await fx.Api.PostAsync($"{AddonServer.Deployments}?deploymentId=keep", new { baseModel = "stories", enableAddons = true })).Status);
        var deployed = await fx.DeployAsync("all", "keep");
        Assert.Equal(HttpStatusCode.OK, deployed.Status);
        var id = deployed.Str("name").Split('/')[^1];

        var rest = await fx.Api.DeleteAsync("/v1/accounts/default/models/all");
        Assert.Equal((HttpStatusCode.Conflict, "FAILED_PRECONDITION"), (rest.Status, rest.Code));
        Assert.Equal("addon accounts/default/models/all is deployed on accounts/default/deployments/keep; undeploy it first: "
            + $"kilnctl undeploy all --deployment-id keep (DELETE /v1/accounts/default/deployedModels/{id}), then delete the model", rest.Message);
        Assert.DoesNotContain("delete the deployment", rest.Message);

        var cli = await fx.Ctl.RunAsync("delete", "model", "all");
        Assert.Equal(1, cli.ExitCode);
        Assert.Contains("undeploy it first: kilnctl undeploy all --deployment-id keep", cli.Stderr);

        // Following the advice works, and the deployment stays.
        await fx.Ctl.OkAsync("undeploy", "all", "--deployment-id", "keep", "--wait", "--wait-timeout", "60s");
        await fx.Ctl.OkAsync("delete", "model", "all");
        Assert.NotEqual("DELETED", (await fx.Api.GetAsync($"{AddonServer.Deployments}/keep")).State());
        await fx.Ctl.OkAsync("create", "model", "all", "--base-model", "stories", "--from", Lora("stories260K-lora-all-r8-peft"));
        await fx.Ctl.OkAsync("delete", "deployment", "keep");
    }

    [SharedFact]
    public async Task An_addon_the_replicas_cannot_load_answers_412_with_the_reason_and_the_rest_keeps_serving()
    {
        // Valid at upload; its file no longer fits the base afterwards (a rank/shape mismatch on disk).
        await fx.Ctl.OkAsync("create", "model", "broken", "--base-model", "stories", "--from", Lora("stories260K-lora-qv-r4.gguf"));
        var stored = Path.Combine(fx.Server.DataDir, "models", "default", "broken", "adapter.gguf");
        Assert.True(File.Exists(stored), stored);
        File.Copy(Lora("mismatch-lora.gguf"), stored, overwrite: true);
        await fx.Ctl.OkAsync("create", "deployment", "stories", "--deployment-id", "fail412", "--enable-addons", "--wait", "--wait-timeout", "90s");
        Assert.Contains("DEPLOYED", await fx.Ctl.OkAsync("deploy", "qv", "--deployment-id", "fail412", "--wait", "--wait-timeout", "60s"));

        // kilnctl's --wait stops at the refusal with the replica's words instead of waiting out its timeout.
        var wait = await fx.Ctl.RunAsync("deploy", "broken", "--deployment-id", "fail412", "--wait", "--wait-timeout", "5m");
        Assert.Equal(1, wait.ExitCode);
        Assert.Contains("failed to load: FAILED_PRECONDITION: replica ", wait.Stderr);
        Assert.Contains("could not load addon accounts/default/models/broken", wait.Stderr);

        var list = (await fx.Api.GetAsync("/v1/accounts/default/deployedModels?deployment=fail412")).Body.GetProperty("deployedModels").EnumerateArray().ToList();
        var broken = list.Single(d => d.GetProperty("model").GetString() == "accounts/default/models/broken");
        Assert.Equal("DEPLOYING", broken.GetProperty("state").GetString());
        Assert.Equal("FAILED_PRECONDITION", broken.GetProperty("status").GetProperty("code").GetString());
        var reason = broken.GetProperty("status").GetProperty("message").GetString()!;
        Assert.Contains("HTTP 400", reason);
        Assert.Contains("cannot be loaded", reason);
        var qv = list.Single(d => d.GetProperty("model").GetString() == "accounts/default/models/qv");
        Assert.False(qv.TryGetProperty("status", out var none) && none.ValueKind != System.Text.Json.JsonValueKind.Null, qv.ToString());
        Assert.Matches(@"broken\s+accounts/default/deployments/fail412\s+DEPLOYING\s+FAILED_PRECONDITION",
            await fx.Ctl.OkAsync("list", "deployed-models", "--deployment-id", "fail412"));

        // The addon itself does not read DEPLOYED while no replica serves it; the loaded one does.
        Assert.Equal("DEPLOYING", (await fx.Api.GetAsync("/v1/accounts/default/models/broken")).State());
        Assert.Equal("DEPLOYED", (await fx.Api.GetAsync("/v1/accounts/default/models/qv")).State());

        using var inference = new Inference(fx.Server.BaseUri, fx.Server.AdminKey);
        foreach (var model in new[] { "accounts/default/models/broken", "accounts/default/models/broken#accounts/default/deployments/fail412" })
        {
            var (status, body, _) = await inference.PostAsync("/inference/v1/completions", new { model, prompt = "Once", max_tokens = 4 });
            Assert.Equal((HttpStatusCode)412, status);
            Inference.AssertOpenAiError(body, "FAILED_PRECONDITION");
            var message = body.GetProperty("error").GetProperty("message").GetString()!;
            Assert.StartsWith("The addon 'accounts/default/models/broken' is deployed on accounts/default/deployments/fail412 but failed to load: replica ", message);
        }
        // The base and the other addon still answer, with their own weights.
        var gateway = new Uri(fx.Server.BaseUri, "inference/v1/");
        Assert.Equal(GreedyText("stories260K-base.json", Prompt),
            await CompleteAsync(gateway, fx.Server.AdminKey, "accounts/default/models/stories", Prompt, 32));
        Assert.Equal(GreedyText("stories260K-lora-qv-r4.json", Prompt),
            await CompleteAsync(gateway, fx.Server.AdminKey, "accounts/default/models/qv", Prompt, 32));
        Assert.Equal("READY", (await fx.Api.GetAsync($"{AddonServer.Deployments}/fail412")).State());
        await fx.Ctl.OkAsync("delete", "deployment", "fail412");
    }
}
