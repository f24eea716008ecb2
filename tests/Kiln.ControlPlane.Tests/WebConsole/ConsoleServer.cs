using System.Net;
using Microsoft.Playwright;

namespace Kiln.ControlPlane.Tests.WebConsole;

/// <summary>
/// One server with the shared tiny model imported, a model "tiny" over another vocabulary (a draft
/// model the server refuses for it) and a deployment "secret" of account default (scaled to zero
/// soon after it starts), four CPU slots, a model file host behind its catalog and hf:// mirror, and
/// one headless instance of each installed browser (started on first use), shared by the console's tests.
/// </summary>
public sealed class ConsoleServer : IAsyncLifetime
{
    public const string Collection = "console";

    public const string Model = "accounts/default/models/stories";
    public KilnServer Server { get; private set; } = null!;
    /// <summary>Serves model files for downloads; the catalog's "tiny-slow" entry is a slow one.</summary>
    public ModelFileHost Files { get; } = new();
    private readonly string _catalog = Path.Combine(Path.GetTempPath(), $"kiln-console-catalog-{Guid.NewGuid():N}.json");
    public Api Admin { get; private set; } = null!;
    private readonly Dictionary<string, IBrowser> _browsers = [];
    private readonly SemaphoreSlim _launching = new(1, 1);
    private IPlaywright? _playwright;

    /// <summary>Where the tests write a screenshot of each page they visit.</summary>
    public static readonly string Screenshots = Path.Combine(AppContext.BaseDirectory, "TestResults", "console-screenshots");

    public string ConsoleUrl => $"{Server.BaseUri}console/";

    public async Task InitializeAsync()
    {
        if (SharedFiles.Root is null) return;
        // Slow enough (about 8 s) that the page shows the download's progress, rate and time left.
        Files.Add("slow-tiny.gguf", TestModels.Tiny()).ChunkDelay = TimeSpan.FromMilliseconds(600);
        File.WriteAllText(_catalog, $$"""
            { "models": [
              { "id": "tiny-slow", "name": "Tiny (slow)", "description": "A tiny llama served slowly", "source": "{{Files.Url("slow-tiny.gguf")}}",
                "quantization": "F32", "architecture": "llama", "license": "mit", "contextLength": 64, "chatTemplate": false }
            ] }
            """);
        Server = await KilnServer.StartAsync("--autoscale-interval", "1s", "--cpu-slots", "4",
            "--huggingface-url", Files.HubBase, "--catalog", _catalog, "--download-disk-reserve", "0");
        Admin = new Api(Server.BaseUri, Server.AdminKey);
        await Steps.ImportAsync(Admin, "default", "stories", TestModels.Stories260K());
        await Steps.ImportAsync(Admin, "default", "tiny", TestModels.Tiny());
        var secret = await Admin.PostAsync("/v1/accounts/default/deployments?deploymentId=secret", new
        {
            baseModel = Model,
            // Back to zero replicas soon after its first one starts, so it costs the machine little.
            autoscalingPolicy = new { scaleToZeroWindow = "2s" },
        });
        Assert.True(secret.Status == HttpStatusCode.OK, secret.ToString());
    }

    private async Task<IBrowser> BrowserAsync(string name)
    {
        await _launching.WaitAsync();
        try
        {
            if (_browsers.TryGetValue(name, out var running)) return running;
            _playwright ??= await Playwright.CreateAsync();
            var browser = name switch
            {
                Browsers.Chromium => await _playwright.Chromium.LaunchAsync(new() { ExecutablePath = Browsers.ChromiumPath, Headless = true }),
                // The "moz-" channel makes Playwright speak WebDriver BiDi to a stock Firefox.
                Browsers.Firefox => await _playwright.Firefox.LaunchAsync(new() { ExecutablePath = Browsers.FirefoxPath, Channel = "moz-firefox", Headless = true }),
                _ => throw new ArgumentOutOfRangeException(nameof(name), name, "not a browser the tests drive"),
            };
            _browsers[name] = browser;
            return browser;
        }
        finally
        {
            _launching.Release();
        }
    }

    /// <summary>A fresh tab (its own session storage) in the named browser at 1280x800, or at a phone's size.</summary>
    public async Task<IPage> NewPageAsync(string browser, bool phone = false)
    {
        var context = await (await BrowserAsync(browser)).NewContextAsync(new()
        {
            ViewportSize = phone ? new() { Width = 390, Height = 844 } : new() { Width = 1280, Height = 800 },
        });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(20_000);
        // Every confirm() (delete, revoke) is accepted.
        page.Dialog += (_, dialog) => dialog.AcceptAsync();
        return page;
    }

    public async Task SignInAsync(IPage page, string key)
    {
        await page.GotoAsync(ConsoleUrl);
        await page.GetByLabel("API key").FillAsync(key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.Locator("#who")).ToContainTextAsync("accounts/");
    }

    /// <summary>Chromium's pictures go straight into the screenshot folder, other browsers' into a folder of their own.</summary>
    public static Task ScreenshotAsync(IPage page, string name)
    {
        var browser = page.Context.Browser?.BrowserType.Name ?? Browsers.Chromium;
        var folder = browser == Browsers.Chromium ? Screenshots : Path.Combine(Screenshots, browser);
        Directory.CreateDirectory(folder);
        return page.ScreenshotAsync(new() { Path = Path.Combine(folder, $"{name}.png"), FullPage = true });
    }

    public async Task DisposeAsync()
    {
        foreach (var browser in _browsers.Values) await browser.DisposeAsync();
        _playwright?.Dispose();
        _launching.Dispose();
        Admin?.Dispose();
        Server?.Dispose();
        Files.Dispose();
        File.Delete(_catalog);
    }
}

[CollectionDefinition(ConsoleServer.Collection)]
public sealed class ConsoleCollection : ICollectionFixture<ConsoleServer>;
