using System.Net;
using Microsoft.Playwright;

namespace Kiln.ControlPlane.Tests.WebConsole;

/// <summary>
/// Addons in a real browser against a real replica: uploaded from the form, deployed onto a
/// deployment, asked in the playground, the reason a replica refuses one shown where it is
/// deployed, and undeployed.
/// </summary>
[Collection(ConsoleServer.Collection)]
public class ConsoleAddonTests(ConsoleServer fixture)
{
    private const string Models = "/v1/accounts/default/models";

    [BrowserTheory, EachBrowser]
    public async Task An_addon_uploaded_from_the_form_deploys_answers_in_the_playground_shows_why_another_fails_to_load_and_undeploys(string browser)
    {
        var (deployment, qv, broken) = (Browsers.Id(browser, "lora"), Browsers.Id(browser, "qv"), Browsers.Id(browser, "broken"));
        var created = await fixture.Admin.PostAsync($"/v1/accounts/default/deployments?deploymentId={deployment}",
            new { baseModel = ConsoleServer.Model, enableAddons = true, minReplicaCount = 1 });
        Assert.True(created.Status == HttpStatusCode.OK, created.ToString());
        var page = await fixture.NewPageAsync(browser);
        await fixture.SignInAsync(page, fixture.Server.AdminKey);
        await page.GetByRole(AriaRole.Link, new() { Name = "Models & addons" }).ClickAsync();

        // Upload: the form refuses a missing file before sending; then the server checks it against its base.
        await page.GetByText("Upload an addon (LoRA)").ClickAsync();
        var form = page.Locator("details", new() { HasTextString = "Upload an addon (LoRA)" }).Locator("form");
        await UploadAsync(form, qv, null);
        await Assertions.Expect(form.Locator("div.field", new() { Has = page.GetByLabel("Files", new() { Exact = true }) }).Locator(".field-error"))
            .ToContainTextAsync("choose one LoRA .gguf");
        await UploadAsync(form, qv, AddonFixtures.Lora("stories260K-lora-qv-r4.gguf"));
        await Assertions.Expect(form.Locator("p[role=status]")).ToContainTextAsync($"Uploaded accounts/default/models/{qv}");
        await UploadAsync(form, broken, AddonFixtures.Lora("stories260K-lora-qv-r4.gguf"));
        await Assertions.Expect(form.Locator("p[role=status]")).ToContainTextAsync($"Uploaded accounts/default/models/{broken}");
        // Valid at upload; its stored file stops fitting the base afterwards (a rank/shape mismatch on disk).
        File.Copy(AddonFixtures.Lora("mismatch-lora.gguf"), Path.Combine(fixture.Server.DataDir, "models", "default", broken, "adapter.gguf"), overwrite: true);

        // Deploy both from their rows; the loaded one reads DEPLOYED, the refused one says why.
        foreach (var addon in new[] { qv, broken })
        {
            var row = page.Locator($"tr[data-model={addon}]");
            await Assertions.Expect(row.Locator(".badge")).ToHaveTextAsync("READY");
            await row.GetByLabel($"Deployment for {addon}").SelectOptionAsync(deployment);
            await row.GetByRole(AriaRole.Button, new() { Name = "Deploy", Exact = true }).ClickAsync();
        }
        var timeout = new LocatorAssertionsToContainTextOptions { Timeout = 120_000 };
        await Assertions.Expect(page.Locator($"tr[data-model={qv}] [data-deployment={deployment}]")).ToContainTextAsync($"{deployment} (DEPLOYED)", timeout);
        var refused = page.Locator($"tr[data-model={broken}] [data-deployment={deployment}]");
        await Assertions.Expect(refused).ToContainTextAsync($"{deployment} (DEPLOYING)");
        await Assertions.Expect(refused.Locator(".addon-problem")).ToContainTextAsync("FAILED_PRECONDITION: replica ", timeout);
        await Assertions.Expect(refused.Locator(".addon-problem")).ToContainTextAsync("cannot be loaded");
        await ConsoleServer.ScreenshotAsync(page, "models-addons");

        // The deployment page lists both, the refusal next to its addon.
        await page.GotoAsync(fixture.ConsoleUrl + $"#/deployments/{deployment}");
        await Assertions.Expect(page.Locator($"tr[data-addon={qv}] .badge")).ToHaveTextAsync("DEPLOYED");
        await Assertions.Expect(page.Locator($"tr[data-addon={qv}] .addon-problem")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator($"tr[data-addon={broken}] .addon-problem")).ToContainTextAsync("cannot be loaded");
        await ConsoleServer.ScreenshotAsync(page, "deployment-addons");

        // The playground asks the loaded addon by its name, streamed.
        await page.GetByRole(AriaRole.Link, new() { Name = "Playground" }).ClickAsync();
        await page.GetByLabel("Deployment or addon").SelectOptionAsync($"accounts/default/models/{qv}");
        await page.GetByText("Sampling settings").ClickAsync();
        await page.GetByLabel("Max tokens").FillAsync("16");
        await page.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();
        await Assertions.Expect(page.Locator("p[role=status]").Filter(new() { HasText = "Done in" })).ToContainTextAsync("completion tokens", new() { Timeout = 60_000 });
        Assert.False(string.IsNullOrWhiteSpace(await page.Locator("pre.output").TextContentAsync()));

        // Undeploy both from the deployment page; they leave the deployment's list.
        await page.GotoAsync(fixture.ConsoleUrl + $"#/deployments/{deployment}");
        foreach (var addon in new[] { qv, broken })
        {
            await page.Locator($"tr[data-addon={addon}]").GetByRole(AriaRole.Button, new() { Name = "Undeploy" }).ClickAsync();
            await Assertions.Expect(page.Locator("#toast")).ToContainTextAsync($"Undeploying {addon}");
        }
        await Assertions.Expect(page.Locator("tr[data-addon]")).ToHaveCountAsync(0, new() { Timeout = 60_000 });
        await Steps.WaitForAsync(fixture.Admin, $"/v1/accounts/default/deployedModels?deployment={deployment}",
            r => r.Body.GetProperty("deployedModels").GetArrayLength() == 0, "no addon deployed");

        Assert.Equal(HttpStatusCode.OK, (await fixture.Admin.DeleteAsync($"{Models}/{qv}")).Status);
        Assert.Equal(HttpStatusCode.OK, (await fixture.Admin.DeleteAsync($"{Models}/{broken}")).Status);
        await fixture.Admin.DeleteAsync($"/v1/accounts/default/deployments/{deployment}");
        await page.Context.CloseAsync();
    }

    private static async Task UploadAsync(ILocator form, string addonId, string? file)
    {
        await form.GetByLabel("Addon ID").FillAsync(addonId);
        await form.GetByLabel("Base model").SelectOptionAsync(ConsoleServer.Model);
        await form.GetByLabel("Files").SetInputFilesAsync(file is null ? Array.Empty<string>() : [file]);
        await form.GetByRole(AriaRole.Button, new() { Name = "Upload addon" }).ClickAsync();
    }
}
