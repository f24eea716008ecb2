using System.Net;
using Microsoft.Playwright;

namespace Kiln.ControlPlane.Tests.WebConsole;

/// <summary>
/// The console's actions in a real browser against a real server: scaling through <c>:scale</c>,
/// the create form's fields, defaults and checks (its own and the server's), model imports the
/// server downloads, and the deployment pages at a phone's width with the keyboard.
/// </summary>
[Collection(ConsoleServer.Collection)]
public class ConsoleActionTests(ConsoleServer fixture)
{
    private const string Deployments = "/v1/accounts/default/deployments";

    private static ILocator ErrorOf(ILocator form, string label) =>
        form.Locator("div.field", new() { Has = form.Page.GetByLabel(label, new() { Exact = true }) }).Locator(".field-error");

    [BrowserTheory, EachBrowser]
    public async Task Scale_asks_the_autoscaler_for_a_count_within_the_bounds_and_shows_what_it_does_next_and_delete_can_be_undone(string browser)
    {
        var scaler = Browsers.Id(browser, "scaler");
        var created = await fixture.Admin.PostAsync($"{Deployments}?deploymentId={scaler}", new { baseModel = ConsoleServer.Model, maxReplicaCount = 2 });
        Assert.True(created.Status == HttpStatusCode.OK, created.ToString());
        var page = await fixture.NewPageAsync(browser);
        await fixture.SignInAsync(page, fixture.Server.AdminKey);
        await page.GotoAsync(fixture.ConsoleUrl + $"#/deployments/{scaler}");
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync(scaler);
        var input = page.GetByLabel("Scale to N replicas");

        // Outside the bounds: refused next to the field, saying which bound to change; nothing is sent.
        await input.FillAsync("3");
        await input.PressAsync("Enter");
        await Assertions.Expect(page.Locator($"#{await input.GetAttributeAsync("id")}-error")).ToContainTextAsync("outside the deployment's bounds [minReplicaCount 0, maxReplicaCount 2]; raise maxReplicaCount to at least 3");
        Assert.False((await fixture.Admin.GetAsync($"{Deployments}/{scaler}")).HasEvent("ScaleRequested"));

        // Within them: the API's :scale, whose answer says what the autoscaler does next; the bounds stay.
        await input.FillAsync("0");
        await page.GetByRole(AriaRole.Button, new() { Name = "Scale", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("p.outlook")).ToHaveTextAsync(
            "Scale to 0 requested: the autoscaler sets the desired replica count to 0 at once; then it stays at zero until a request arrives, which wakes it to its first replica.");
        await Assertions.Expect(page.GetByRole(AriaRole.Cell, new() { Name = "scale to 0 requested", Exact = true })).ToBeVisibleAsync();
        var scaled = await Steps.WaitForAsync(fixture.Admin, $"{Deployments}/{scaler}", r => r.Int("desiredReplicaCount") == 0, "desired count 0");
        Assert.Equal((0, 2), (scaled.Int("minReplicaCount"), scaled.Int("maxReplicaCount")));
        await Assertions.Expect(page.Locator("dl.facts")).ToContainTextAsync("0 desired (min 0, max 2)");
        await ConsoleServer.ScreenshotAsync(page, "deployment-scaled");

        // Delete, then undelete: it comes back with its spec.
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete deployment" }).ClickAsync();
        await Assertions.Expect(page.Locator("dl.facts .badge").First).ToHaveTextAsync("DELETED", new() { Timeout = 60_000 });
        await page.GetByRole(AriaRole.Button, new() { Name = "Undelete" }).ClickAsync();
        await Assertions.Expect(page.Locator("dl.facts .badge").First).Not.ToHaveTextAsync("DELETED");
        await Assertions.Expect(page.GetByLabel("Scale to N replicas")).ToBeVisibleAsync();
        var back = await fixture.Admin.GetAsync($"{Deployments}/{scaler}");
        Assert.True(back.HasEvent("Undeleted"), back.ToString());
        Assert.Equal(2, back.Int("maxReplicaCount"));

        await fixture.Admin.DeleteAsync($"{Deployments}/{scaler}");
        await page.Context.CloseAsync();
    }

    [BrowserTheory, EachBrowser]
    public async Task The_create_form_shows_every_field_with_its_default_and_each_refusal_next_to_its_field(string browser)
    {
        var drafted = Browsers.Id(browser, "drafted");
        var page = await fixture.NewPageAsync(browser);
        await fixture.SignInAsync(page, fixture.Server.AdminKey);
        await page.GetByText("Create a deployment").ClickAsync();
        var form = page.Locator("form.spec-form");
        ILocator Field(string label) => form.GetByLabel(label, new() { Exact = true });

        // Every field of the API, with the default the server would choose.
        await Assertions.Expect(Field("Deployment ID")).ToHaveValueAsync("");
        await Assertions.Expect(Field("Description")).ToHaveValueAsync("");
        await Assertions.Expect(Field("Min replicas")).ToHaveValueAsync("0");
        await Assertions.Expect(Field("Max replicas")).ToHaveValueAsync("");
        await Assertions.Expect(Field("Scale-up window")).ToHaveValueAsync("30s");
        await Assertions.Expect(Field("Scale-down window")).ToHaveValueAsync("10m");
        await Assertions.Expect(Field("Scale-to-zero window")).ToHaveValueAsync("1h");
        await Assertions.Expect(Field("Load targets")).ToHaveValueAsync("default=0.8");
        await Assertions.Expect(Field("Delete when unused for")).ToHaveValueAsync("168h");
        await Assertions.Expect(Field("Precision")).ToHaveValueAsync("FP32");
        await Assertions.Expect(Field("Accelerator count")).ToHaveValueAsync("1");
        await Assertions.Expect(Field("Engine")).ToHaveValueAsync("kiln");
        await Assertions.Expect(Field("Engine arguments")).ToHaveValueAsync("");
        await Assertions.Expect(Field("Draft model")).ToHaveValueAsync("");
        await Assertions.Expect(Field("N-gram speculation length")).ToHaveValueAsync("");
        await Assertions.Expect(Field("Draft token count")).ToHaveValueAsync("");
        await Assertions.Expect(form.GetByLabel("Enable addons (LoRA)")).Not.ToBeCheckedAsync();
        // The accelerator types are what GET /v1/accelerators holds: CPU slots on this server.
        await Assertions.Expect(Field("Accelerator type")).ToHaveValueAsync("CPU");
        Assert.Equal(["CPU"], await Field("Accelerator type").Locator("option").AllTextContentsAsync());
        await Assertions.Expect(form).ToContainTextAsync("This server holds local: 4 x CPU.");

        // The form's own checks, worded as the API words them.
        await Field("Base model").SelectOptionAsync(ConsoleServer.Model);
        await Field("Accelerator count").SelectOptionAsync("8");
        await Field("N-gram speculation length").FillAsync("3");
        await Field("Draft model").SelectOptionAsync("accounts/default/models/tiny");
        await form.GetByRole(AriaRole.Button, new() { Name = "Create deployment" }).ClickAsync();
        await Assertions.Expect(ErrorOf(form, "Accelerator count")).ToHaveTextAsync("no node holds 8 x CPU (at most 4 on one node); available: local: 4 x CPU");
        await Assertions.Expect(ErrorOf(form, "N-gram speculation length")).ToHaveTextAsync("cannot be used together with draftModel: choose a draft model or n-gram speculation");
        await Assertions.Expect(ErrorOf(form, "Draft token count")).ToContainTextAsync("is required with draftModel or ngramSpeculationLength");
        await ConsoleServer.ScreenshotAsync(page, "deployments-create-checks");

        // What only the server can check (the draft model's vocabulary) comes back next to its field.
        await Field("Accelerator count").SelectOptionAsync("1");
        await Field("N-gram speculation length").FillAsync("");
        await Field("Draft token count").FillAsync("4");
        await Field("Deployment ID").FillAsync(drafted);
        await form.GetByRole(AriaRole.Button, new() { Name = "Create deployment" }).ClickAsync();
        await Assertions.Expect(ErrorOf(form, "Draft model")).ToContainTextAsync("accounts/default/models/tiny cannot draft for accounts/default/models/stories");
        await Assertions.Expect(Field("Draft model")).ToBeFocusedAsync();
        await Assertions.Expect(ErrorOf(form, "Draft token count")).ToBeEmptyAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Admin.GetAsync($"{Deployments}/{drafted}")).Status);
        await ConsoleServer.ScreenshotAsync(page, "deployments-create-server-refusal");

        // An engine this server does not offer: the server's list comes back under the Engine field.
        await Field("Draft model").SelectOptionAsync("");
        await Field("Draft token count").FillAsync("");
        await Field("Engine").FillAsync("nope");
        await form.GetByRole(AriaRole.Button, new() { Name = "Create deployment" }).ClickAsync();
        await Assertions.Expect(ErrorOf(form, "Engine")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^unknown engine \"nope\"; this server offers .*kiln"));
        // Only Kiln's engine takes the speculation fields, as the API says.
        await Field("Engine").FillAsync("vllm");
        await Field("N-gram speculation length").FillAsync("3");
        await Field("Draft token count").FillAsync("4");
        await form.GetByRole(AriaRole.Button, new() { Name = "Create deployment" }).ClickAsync();
        await Assertions.Expect(ErrorOf(form, "Draft token count")).ToHaveTextAsync(
            "engine \"vllm\" does not take Kiln's speculation settings; pass the engine's own speculation flags in engineArgs instead");

        // Fixed, the fields reach the API as typed.
        await Field("Engine").FillAsync("kiln");
        await Field("Description").FillAsync("n-gram speculation");
        await form.GetByRole(AriaRole.Button, new() { Name = "Create deployment" }).ClickAsync();
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync(drafted);
        await Assertions.Expect(page.Locator("dl.facts")).ToContainTextAsync("n-gram length 3, 4 tokens per step");
        var spec = await fixture.Admin.GetAsync($"{Deployments}/{drafted}");
        Assert.Equal((3, 4, "n-gram speculation", "CPU", 1), (spec.Int("ngramSpeculationLength"), spec.Int("draftTokenCount"),
            spec.Str("description"), spec.Str("acceleratorType"), spec.Int("acceleratorCount")));

        // Update: clearing one speculation field alone is refused as the API would; clearing both removes it.
        await page.GetByText("Update replicas, windows and load targets").ClickAsync();
        var update = page.Locator("form.spec-form");
        await Assertions.Expect(update.GetByLabel("N-gram speculation length", new() { Exact = true })).ToHaveValueAsync("3");
        await update.GetByLabel("N-gram speculation length", new() { Exact = true }).FillAsync("");
        await update.GetByRole(AriaRole.Button, new() { Name = "Save changes" }).ClickAsync();
        await Assertions.Expect(ErrorOf(update, "N-gram speculation length")).ToHaveTextAsync("needs draftModel or ngramSpeculationLength to propose the tokens");
        await update.GetByLabel("Draft token count", new() { Exact = true }).FillAsync("");
        await update.GetByRole(AriaRole.Button, new() { Name = "Save changes" }).ClickAsync();
        await Assertions.Expect(page.Locator("dl.facts")).ToContainTextAsync("Speculationnone");
        var plain = await fixture.Admin.GetAsync($"{Deployments}/{drafted}");
        Assert.False(plain.Body.TryGetProperty("ngramSpeculationLength", out var n) && n.ValueKind != System.Text.Json.JsonValueKind.Null, plain.ToString());
        Assert.Equal("n-gram speculation", plain.Str("description"));
        await fixture.Admin.DeleteAsync($"{Deployments}/{drafted}");
        await page.Context.CloseAsync();
    }

    [BrowserTheory, EachBrowser]
    public async Task A_deployment_is_created_from_a_shape_the_server_offers_and_the_budget_and_addon_limit_are_checked(string browser)
    {
        var shaped = Browsers.Id(browser, "shaped");
        var page = await fixture.NewPageAsync(browser);
        await fixture.SignInAsync(page, fixture.Server.AdminKey);
        await page.GetByText("Create a deployment").ClickAsync();
        var form = page.Locator("form.spec-form");
        ILocator Field(string label) => form.GetByLabel(label, new() { Exact = true });

        // Suggestions come from GET /v1/engines and the server's shape versions.
        await Assertions.Expect(Field("Deployment shape")).ToHaveValueAsync("");
        await Assertions.Expect(Field("Prefix cache (MB)")).ToHaveValueAsync("");
        await Assertions.Expect(Field("Max addons")).ToHaveValueAsync("");
        Assert.Contains("sglang", await form.Locator("#engines-create option").EvaluateAllAsync<string[]>("os => os.map(o => o.value)"));
        Assert.Contains("cpu-minimal", await form.Locator("#shapes-create option").EvaluateAllAsync<string[]>("os => os.map(o => o.value)"));

        await Field("Base model").SelectOptionAsync(ConsoleServer.Model);
        await Field("Deployment ID").FillAsync(shaped);
        await Field("Prefix cache (MB)").FillAsync("-1");
        await Field("Max addons").FillAsync("0");
        await form.GetByRole(AriaRole.Button, new() { Name = "Create deployment" }).ClickAsync();
        await Assertions.Expect(ErrorOf(form, "Prefix cache (MB)")).ToHaveTextAsync("must be a whole number between 0 (off) and 1048576, got -1");
        await Assertions.Expect(ErrorOf(form, "Max addons")).ToHaveTextAsync("must be a whole number between 1 and 1000, got 0");
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Admin.GetAsync($"{Deployments}/{shaped}")).Status);

        // The shape's settings stand for the fields left at their defaults; nothing sent contradicts it.
        await Field("Prefix cache (MB)").FillAsync("");
        await Field("Max addons").FillAsync("3");
        await Field("Deployment shape").FillAsync("cpu-minimal");
        await form.GetByRole(AriaRole.Button, new() { Name = "Create deployment" }).ClickAsync();
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync(shaped);
        await Assertions.Expect(page.Locator("dl.facts")).ToContainTextAsync("deploymentShapes/cpu-minimal/versions/");
        await Assertions.Expect(page.Locator("dl.facts")).ToContainTextAsync("batch 4, context 2048, prefix cache 64 MB");
        var spec = await fixture.Admin.GetAsync($"{Deployments}/{shaped}");
        Assert.StartsWith("accounts/kiln/deploymentShapes/cpu-minimal/versions/", spec.Str("deploymentShape"));
        Assert.Equal((64, 3), (spec.Int("prefixCacheMb"), spec.Int("maxAddonCount")));
        Assert.Equal(HttpStatusCode.OK, (await fixture.Admin.DeleteAsync($"{Deployments}/{shaped}")).Status);
    }

    [BrowserTheory, EachBrowser]
    public async Task Models_import_from_the_catalog_or_a_url_with_live_download_progress_and_the_failure_reason(string browser)
    {
        var page = await fixture.NewPageAsync(browser);
        await fixture.SignInAsync(page, fixture.Server.AdminKey);
        await page.GetByRole(AriaRole.Link, new() { Name = "Models & addons" }).ClickAsync();
        await page.GetByText("Import a model").ClickAsync();
        var form = page.Locator("form.spec-form");

        // A catalog entry: its ID makes the model ID; the server downloads it and the page follows.
        await form.GetByLabel("Import from").SelectOptionAsync("catalog");
        await form.GetByLabel("Catalog entry").SelectOptionAsync("tiny-slow");
        await Assertions.Expect(form).ToContainTextAsync("A tiny llama served slowly");
        await Assertions.Expect(form.GetByLabel("Model ID")).ToHaveValueAsync("tiny-slow");
        await form.GetByRole(AriaRole.Button, new() { Name = "Import" }).ClickAsync();
        var row = page.Locator("tr[data-model=tiny-slow]");
        await Assertions.Expect(row.Locator(".badge")).ToHaveTextAsync("DOWNLOADING");
        // Bytes of the total, the rate and the time left, as the server measures them.
        var progress = row.Locator(".download");
        await Assertions.Expect(progress).ToContainTextAsync(new System.Text.RegularExpressions.Regex(@"[\d.]+ K?i?B of [\d.]+ KiB · [\d.]+ K?i?B/s · [\d.hms]+ left"));
        await Assertions.Expect(form.Locator(".progress")).ToContainTextAsync(" left");
        await ConsoleServer.ScreenshotAsync(page, "models-downloading");
        await Assertions.Expect(row.Locator(".badge")).ToHaveTextAsync("READY", new() { Timeout = 60_000 });
        await Assertions.Expect(form.Locator("p[role=status]")).ToContainTextAsync("Imported accounts/default/models/tiny-slow (READY)");
        await Assertions.Expect(form.Locator(".progress")).ToBeHiddenAsync();

        // A URL: refused before sending when it is not one; a 404 at the source FAILS with the reason.
        await form.GetByLabel("Import from").SelectOptionAsync("url");
        await form.GetByLabel("Model ID").FillAsync("gone");
        await form.GetByLabel("URL").FillAsync("ftp://example.com/x.gguf");
        await form.GetByRole(AriaRole.Button, new() { Name = "Import" }).ClickAsync();
        await Assertions.Expect(ErrorOf(form, "URL")).ToHaveTextAsync("must be an http(s):// URL or hf://<owner>/<repo>[@<revision>]/<file>.gguf");
        await form.GetByLabel("URL").FillAsync(fixture.Files.Url("missing.gguf"));
        await form.GetByRole(AriaRole.Button, new() { Name = "Import" }).ClickAsync();
        var failed = $"The download of accounts/default/models/gone failed: NOT_FOUND: {fixture.Files.Url("missing.gguf")} was not found (HTTP 404 Not Found)";
        await Assertions.Expect(form.Locator("p[role=status]")).ToContainTextAsync(failed, new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator("tr[data-model=gone] .badge")).ToHaveTextAsync("FAILED");
        await Assertions.Expect(page.Locator("tr[data-model=gone]")).ToContainTextAsync("was not found (HTTP 404 Not Found)");
        await ConsoleServer.ScreenshotAsync(page, "models-imports");

        await fixture.Admin.DeleteAsync("/v1/accounts/default/models/gone");
        await fixture.Admin.DeleteAsync("/v1/accounts/default/models/tiny-slow");
        await page.Context.CloseAsync();
    }

    // Not in Firefox: Playwright cannot choose a folder for a file input there over WebDriver BiDi
    // (the form uses the standard webkitdirectory input, which Firefox implements).
    [BrowserTheory, EachBrowser(Except = [Browsers.Firefox])]
    public async Task A_hugging_face_folder_is_uploaded_file_by_file_and_checked_by_the_server(string browser)
    {
        var scratch = Directory.CreateTempSubdirectory("kiln-console-hf-").FullName;
        try
        {
            var good = EngineFixture.HfModel(scratch, "good");
            var weightless = Directory.CreateDirectory(Path.Combine(scratch, "weightless")).FullName;
            File.WriteAllText(Path.Combine(weightless, "config.json"), "{}");
            var broken = EngineFixture.HfModel(scratch, "broken");
            File.WriteAllBytes(Path.Combine(broken, "model.safetensors"), [1, 2, 3]);
            var hf = Browsers.Id(browser, "hf");

            var page = await fixture.NewPageAsync(browser);
            await fixture.SignInAsync(page, fixture.Server.AdminKey);
            await page.GetByRole(AriaRole.Link, new() { Name = "Models & addons" }).ClickAsync();
            await page.GetByText("Import a model").ClickAsync();
            var form = page.Locator("details", new() { HasTextString = "Import a model" }).Locator("form");
            await form.GetByLabel("Import from").SelectOptionAsync("folder");
            await form.GetByLabel("Model ID").FillAsync(hf);

            // A folder without weights is refused before anything is sent.
            await form.GetByLabel("Model folder").SetInputFilesAsync(weightless);
            await form.GetByRole(AriaRole.Button, new() { Name = "Import" }).ClickAsync();
            await Assertions.Expect(ErrorOf(form, "Model folder")).ToHaveTextAsync("a Hugging Face model folder holds config.json and at least one .safetensors file");
            Assert.Equal(HttpStatusCode.NotFound, (await fixture.Admin.GetAsync($"/v1/accounts/default/models/{hf}")).Status);

            // A weights file whose header cannot be read: the server names it, and the half-made model is gone.
            await form.GetByLabel("Model folder").SetInputFilesAsync(broken);
            await form.GetByRole(AriaRole.Button, new() { Name = "Import" }).ClickAsync();
            await Assertions.Expect(form.Locator("p[role=status]")).ToContainTextAsync("The server refused: ");
            await Assertions.Expect(form.Locator("p[role=status]")).ToContainTextAsync("model.safetensors");
            await ConsoleServer.ScreenshotAsync(page, "models-folder-refused");
            await Steps.WaitForAsync(fixture.Admin, $"/v1/accounts/default/models/{hf}", r => r.Status == HttpStatusCode.NotFound, "the refused model removed");

            // Each file goes up, then the server checks them together and the model is READY.
            await form.GetByLabel("Model folder").SetInputFilesAsync(good);
            await form.GetByRole(AriaRole.Button, new() { Name = "Import" }).ClickAsync();
            await Assertions.Expect(form.Locator("p[role=status]")).ToContainTextAsync($"Imported accounts/default/models/{hf} (READY)");
            await Assertions.Expect(page.Locator($"tr[data-model={hf}] .badge")).ToHaveTextAsync("READY");
            var model = await fixture.Admin.GetAsync($"/v1/accounts/default/models/{hf}");
            Assert.Equal(("HF_SAFETENSORS", "READY"), (model.Str("format"), model.State()));
            await ConsoleServer.ScreenshotAsync(page, "models-folder");
            Assert.Equal(HttpStatusCode.OK, (await fixture.Admin.DeleteAsync($"/v1/accounts/default/models/{hf}")).Status);
            await page.Context.CloseAsync();
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    [BrowserTheory, EachBrowser]
    public async Task At_a_phones_width_the_deployment_pages_fit_and_their_main_actions_are_reachable_by_tab(string browser)
    {
        var page = await fixture.NewPageAsync(browser, phone: true);
        await fixture.SignInAsync(page, fixture.Server.AdminKey);
        await Assertions.Expect(page.Locator("tr[data-deployment=secret]")).ToBeVisibleAsync();
        await AssertNoHorizontalOverflowAsync(page);
        await AssertReachedByTabAsync(page, "Create a deployment", "Filter deployments", "Sort by", "secret");
        await ConsoleServer.ScreenshotAsync(page, "deployments-phone-keyboard");
        // The create form opens from the keyboard and fits too.
        await page.Locator("summary", new() { HasTextString = "Create a deployment" }).FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.GetByLabel("Draft token count")).ToBeVisibleAsync();
        await AssertNoHorizontalOverflowAsync(page);
        await ConsoleServer.ScreenshotAsync(page, "deployments-create-phone");

        await page.GotoAsync(fixture.ConsoleUrl + "#/deployments/secret");
        await Assertions.Expect(page.Locator(".charts canvas")).ToHaveCountAsync(5);
        await Assertions.Expect(page.Locator("tbody tr").First).ToBeVisibleAsync();
        await AssertNoHorizontalOverflowAsync(page);
        await AssertReachedByTabAsync(page, "Chart window", "Scale to N replicas", "Scale", "Delete deployment", "Update replicas, windows and load targets");
        await ConsoleServer.ScreenshotAsync(page, "deployment-phone-keyboard");
        await page.Context.CloseAsync();
    }

    private static async Task AssertNoHorizontalOverflowAsync(IPage page)
    {
        var size = await page.EvaluateAsync<int[]>("() => [document.documentElement.scrollWidth, window.innerWidth]");
        Assert.True(size[0] <= size[1], $"the page is {size[0]}px wide in a {size[1]}px window");
        // Nothing sticks out of the window on its own either (a table or chart wider than its box).
        var wide = await page.EvaluateAsync<string[]>(
            "() => [...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5 && e.checkVisibility()).map(e => e.tagName + '.' + e.className).slice(0, 5)");
        Assert.True(wide.Length == 0, "wider than the window: " + string.Join(", ", wide));
    }

    /// <summary>Tabs from the top of the page until each named control had focus, each inside the window.</summary>
    private static async Task AssertReachedByTabAsync(IPage page, params string[] names)
    {
        await page.Locator("body").FocusAsync();
        await page.EvaluateAsync("() => document.activeElement?.blur()");
        var missing = new HashSet<string>(names);
        for (var i = 0; i < 120 && missing.Count > 0; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            var focused = await page.EvaluateAsync<string[]>("""
                () => {
                  const e = document.activeElement;
                  const r = e.getBoundingClientRect();
                  const name = (e.getAttribute('aria-label') || e.labels?.[0]?.textContent || e.textContent || '').trim();
                  return [name, String(r.left >= 0 && r.right <= window.innerWidth + 0.5)];
                }
                """);
            if (missing.Remove(focused[0])) Assert.True(focused[1] == "true", $"{focused[0]} has focus outside the window");
        }
        Assert.True(missing.Count == 0, "never reached by Tab: " + string.Join(", ", missing));
    }
}
