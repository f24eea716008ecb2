using System.Net;
using Microsoft.Playwright;

namespace Kiln.ControlPlane.Tests.WebConsole;

/// <summary>The web console in a real browser, against a real server and replica.</summary>
[Collection(ConsoleServer.Collection)]
public class ConsoleBrowserTests(ConsoleServer fixture)
{
    private static readonly LocatorAssertionsToHaveTextOptions Slow = new() { Timeout = 120_000 };

    [BrowserTheory, EachBrowser]
    public async Task A_deployment_created_from_the_form_turns_ready_answers_in_the_playground_and_shows_in_usage(string browser)
    {
        var web = Browsers.Id(browser, "web");
        var page = await fixture.NewPageAsync(browser);
        await fixture.SignInAsync(page, fixture.Server.AdminKey);
        await Assertions.Expect(page.Locator("tr[data-deployment=secret]")).ToBeVisibleAsync();

        // Create: the form refuses what the API would refuse before sending anything.
        await page.GetByText("Create a deployment").ClickAsync();
        var form = page.Locator("form.spec-form");
        await form.GetByLabel("Deployment ID").FillAsync("W" + web[1..]);
        await form.GetByLabel("Base model").SelectOptionAsync(ConsoleServer.Model);
        await form.GetByLabel("Min replicas").FillAsync("1");
        await form.GetByLabel("Scale-up window").FillAsync("soon");
        await form.GetByRole(AriaRole.Button, new() { Name = "Create deployment" }).ClickAsync();
        await Assertions.Expect(form.Locator("#" + await form.GetByLabel("Scale-up window").GetAttributeAsync("id") + "-error")).ToContainTextAsync("not a duration");
        await Assertions.Expect(form.Locator("[aria-invalid=true]")).ToHaveCountAsync(2);
        await ConsoleServer.ScreenshotAsync(page, "deployments-create-form");
        await form.GetByLabel("Deployment ID").FillAsync(web);
        await form.GetByLabel("Scale-up window").FillAsync("30s");
        await form.GetByLabel("Accelerator type").SelectOptionAsync("CPU");
        await form.GetByRole(AriaRole.Button, new() { Name = "Create deployment" }).ClickAsync();

        // The deployment page follows it to READY, with its charts and events.
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync(web);
        Assert.EndsWith($"/console/#/deployments/{web}", page.Url);
        await Assertions.Expect(page.Locator("dl.facts .badge").First).ToHaveTextAsync("READY", Slow);
        await Assertions.Expect(page.Locator(".charts canvas")).ToHaveCountAsync(5);
        await Assertions.Expect(page.GetByText("created with 1 desired replica(s)")).ToBeVisibleAsync();
        var created = await fixture.Admin.GetAsync($"/v1/accounts/default/deployments/{web}");
        Assert.Equal(("CPU", 1), (created.Str("acceleratorType"), created.Int("minReplicaCount")));

        // Playground: a streamed chat answer from the new deployment.
        await page.GetByRole(AriaRole.Link, new() { Name = "Playground" }).ClickAsync();
        await page.GetByLabel("Deployment or addon").SelectOptionAsync($"accounts/default/deployments/{web}");
        await page.GetByText("Sampling settings").ClickAsync();
        await page.GetByLabel("Max tokens").FillAsync("24");
        await page.GetByLabel("Temperature").FillAsync("0");
        await Assertions.Expect(page.Locator("pre.code").First).ToContainTextAsync($"accounts/default/deployments/{web}");
        await Assertions.Expect(page.Locator("pre.code").First).Not.ToContainTextAsync(fixture.Server.AdminKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();
        await Assertions.Expect(page.Locator("p[role=status]").Filter(new() { HasText = "Done in" })).ToContainTextAsync("completion tokens", new() { Timeout = 60_000 });
        var answer = await page.Locator("pre.output").TextContentAsync();
        Assert.False(string.IsNullOrWhiteSpace(answer));
        await ConsoleServer.ScreenshotAsync(page, "playground");

        // Usage moves: the request shows against the deployment and the key.
        await page.GetByRole(AriaRole.Link, new() { Name = "Usage" }).ClickAsync();
        var row = page.Locator("tr", new() { Has = page.Locator("td", new() { HasTextRegex = new System.Text.RegularExpressions.Regex($"^{web}$") }) }).First;
        await Assertions.Expect(row).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator("tbody tr", new() { HasTextString = "admin" }).First).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await ConsoleServer.ScreenshotAsync(page, "usage");

        // The list shows it READY with its replicas; then the remaining pages, for the record.
        await page.GetByRole(AriaRole.Link, new() { Name = "Deployments" }).ClickAsync();
        await Assertions.Expect(page.Locator($"tr[data-deployment={web}] .replicas")).ToHaveTextAsync("1 / 1 / 1 / 1");
        await ConsoleServer.ScreenshotAsync(page, "deployments");
        await page.GotoAsync(fixture.ConsoleUrl + $"#/deployments/{web}");
        await Assertions.Expect(page.Locator(".charts canvas")).ToHaveCountAsync(5);
        await page.WaitForTimeoutAsync(500); // let the charts draw before the picture
        await ConsoleServer.ScreenshotAsync(page, "deployment");
        await page.GetByRole(AriaRole.Link, new() { Name = "Models & addons" }).ClickAsync();
        await Assertions.Expect(page.Locator("tr[data-model=stories] .badge")).ToHaveTextAsync("DEPLOYED");
        await ConsoleServer.ScreenshotAsync(page, "models");

        var phone = await fixture.NewPageAsync(browser, phone: true);
        await fixture.SignInAsync(phone, fixture.Server.AdminKey);
        await Assertions.Expect(phone.Locator($"tr[data-deployment={web}]")).ToBeVisibleAsync();
        await ConsoleServer.ScreenshotAsync(phone, "deployments-phone");
        await phone.GotoAsync(fixture.ConsoleUrl + $"#/deployments/{web}");
        await Assertions.Expect(phone.Locator(".charts canvas")).ToHaveCountAsync(5);
        await ConsoleServer.ScreenshotAsync(phone, "deployment-phone");
        await phone.Context.CloseAsync();

        await fixture.Admin.DeleteAsync($"/v1/accounts/default/deployments/{web}");
        await page.Context.CloseAsync();
    }

    [BrowserTheory, EachBrowser]
    public async Task A_revoked_key_is_refused_and_the_console_signs_out(string browser)
    {
        var created = await fixture.Admin.PostAsync("/v1/accounts/default/apiKeys", new { displayName = "short-lived" });
        var (keyId, key) = (created.Str("keyId"), created.Str("key"));
        var page = await fixture.NewPageAsync(browser);
        await fixture.SignInAsync(page, key);
        await page.GetByRole(AriaRole.Link, new() { Name = "API keys" }).ClickAsync();
        await Assertions.Expect(page.Locator($"tr[data-key='{keyId}']")).ToContainTextAsync("this console");
        await ConsoleServer.ScreenshotAsync(page, "keys");

        await page.Locator($"tr[data-key='{keyId}']").GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
        await Assertions.Expect(page.GetByLabel("API key")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#toast")).ToContainTextAsync("refused");
        Assert.Null(await page.EvaluateAsync<string?>("sessionStorage.getItem('kiln.apiKey')"));

        // Signing in again with it fails, and says so.
        await page.GetByLabel("API key").FillAsync(key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.Locator(".field-error")).ToContainTextAsync("refused");
        await ConsoleServer.ScreenshotAsync(page, "signin-refused");
        await page.Context.CloseAsync();
    }

    [BrowserTheory, EachBrowser]
    public async Task A_key_of_another_account_never_sees_this_accounts_deployments(string browser)
    {
        var bravo = Browsers.Id(browser, "bravo");
        var account = await fixture.Admin.PostAsync("/v1/accounts", new { accountId = bravo });
        Assert.True(account.Status == HttpStatusCode.OK, account.ToString());
        var key = account.Body.GetProperty("apiKey").GetProperty("key").GetString()!;
        var page = await fixture.NewPageAsync(browser);
        await fixture.SignInAsync(page, key);
        await Assertions.Expect(page.Locator("#who")).ToContainTextAsync($"accounts/{bravo}");
        await Assertions.Expect(page.Locator("caption")).ToHaveTextAsync("0 of 0 deployments");
        Assert.Equal(0, await page.Locator("tr[data-deployment]").CountAsync());

        // Asking for one by name gets the API's 404, as for a deployment that does not exist.
        await page.GotoAsync(fixture.ConsoleUrl + "#/deployments/secret");
        await Assertions.Expect(page.Locator(".load-error")).ToContainTextAsync("not found");
        await page.GotoAsync(fixture.ConsoleUrl + "#/playground");
        await Assertions.Expect(page.GetByLabel("Deployment or addon")).ToContainTextAsync("No deployment yet");
        await page.GotoAsync(fixture.ConsoleUrl + "#/models");
        await Assertions.Expect(page.Locator("caption")).ToHaveTextAsync("0 models");
        Assert.DoesNotContain("secret", await page.ContentAsync());
        await ConsoleServer.ScreenshotAsync(page, "other-account");
        await page.Context.CloseAsync();
    }
}
