using System.Net;
using System.Text.RegularExpressions;

namespace Kiln.ControlPlane.Tests.WebConsole;

/// <summary>How the server serves the console, and the history endpoint the console's charts read.</summary>
[Collection(ConsoleServer.Collection)]
public partial class ConsoleSiteTests(ConsoleServer fixture)
{
    [SharedFact]
    public async Task Console_files_are_public_and_served_under_a_strict_content_security_policy()
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = fixture.Server.BaseUri };
        var bare = await http.GetAsync("/console");
        Assert.Equal(HttpStatusCode.Redirect, bare.StatusCode);
        Assert.Equal("/console/", bare.Headers.Location?.OriginalString);

        var index = await http.GetAsync("/console/");
        Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        Assert.Equal("text/html", index.Content.Headers.ContentType?.MediaType);
        var csp = string.Join(";", index.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'none'", csp);
        Assert.Contains("script-src 'self'", csp);
        Assert.Contains("style-src 'self'", csp);
        Assert.Contains("connect-src 'self'", csp);
        Assert.DoesNotContain("unsafe", csp);
        Assert.Equal("nosniff", index.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.False(index.Headers.Contains("Set-Cookie"));
        var html = await index.Content.ReadAsStringAsync();
        Assert.Matches("<script type=\"module\" src=\"js/app.js\"></script>", html);
        Assert.DoesNotMatch(InlineScriptOrStyle(), html);

        var module = await http.GetAsync("/console/js/app.js");
        Assert.Equal(HttpStatusCode.OK, module.StatusCode);
        Assert.Equal("text/javascript", module.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/console/vendor/uPlot.esm.js")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/console/js/nope.js")).StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await http.PostAsync("/console/", null)).StatusCode);
        // Everything else still needs a key.
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/v1/accounts/default/deployments")).StatusCode);
    }

    [Fact]
    public void The_console_builds_no_markup_from_strings_and_evaluates_no_code()
    {
        var root = Path.Combine(RepoRoot(), "src", "Kiln.Server", "WebConsole", "wwwroot");
        var scripts = Directory.GetFiles(Path.Combine(root, "js"), "*.js", SearchOption.AllDirectories);
        Assert.NotEmpty(scripts);
        foreach (var file in scripts)
        {
            var text = File.ReadAllText(file);
            foreach (var banned in (string[])["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "setAttribute('style'", "localStorage", "document.cookie"])
            {
                Assert.False(text.Contains(banned, StringComparison.Ordinal), $"{Path.GetFileName(file)} uses {banned}");
            }
        }
        foreach (var file in Directory.GetFiles(root, "*.html", SearchOption.AllDirectories))
        {
            Assert.DoesNotMatch(InlineScriptOrStyle(), File.ReadAllText(file));
        }
    }

    [SharedFact]
    public async Task History_is_sampled_for_each_deployment_and_authorised_like_the_rest_of_the_api()
    {
        const string path = "/v1/accounts/default/deployments/secret/history";
        var reply = await Steps.WaitForAsync(fixture.Admin, path, r => r.Body.GetProperty("points").GetArrayLength() >= 2, "history samples");
        var last = reply.Body.GetProperty("points").EnumerateArray().Last();
        Assert.InRange(last.GetProperty("replicas").GetInt32(), 0, 1);
        Assert.Equal("default", last.GetProperty("loadTarget").GetString());
        Assert.Equal(0, last.GetProperty("heldRequests").GetInt32());
        Assert.Equal(0.8, reply.Body.GetProperty("loadTargets").GetProperty("default").GetDouble());
        Assert.False(last.TryGetProperty("p99LatencySeconds", out _)); // no request finished

        var day = await fixture.Admin.GetAsync(path + "?window=24h");
        Assert.Equal(HttpStatusCode.OK, day.Status);
        var bad = await fixture.Admin.GetAsync(path + "?window=2d");
        Assert.Equal((HttpStatusCode.BadRequest, "INVALID_ARGUMENT"), (bad.Status, bad.Code));
        Assert.Contains("\"2d\"", bad.Message);
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Admin.GetAsync("/v1/accounts/default/deployments/nope/history")).Status);

        var other = await fixture.Admin.PostAsync("/v1/accounts", new { accountId = "charlie" });
        using var charlie = new Api(fixture.Server.BaseUri, other.Body.GetProperty("apiKey").GetProperty("key").GetString()!);
        var hidden = await charlie.GetAsync(path);
        Assert.Equal((HttpStatusCode.NotFound, "NOT_FOUND"), (hidden.Status, hidden.Code));
        using var nobody = new Api(fixture.Server.BaseUri, "kiln_not-a-real-key");
        Assert.Equal(HttpStatusCode.Unauthorized, (await nobody.GetAsync(path)).Status);
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Kiln.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("Kiln.sln not found above the test's folder");
    }

    // A <script> without src, a <style> element, or a style="" / on...="" attribute.
    [GeneratedRegex("<script(?![^>]*\\bsrc=)[^>]*>|<style\\b|\\sstyle=|\\son[a-z]+=", RegexOptions.IgnoreCase)]
    private static partial Regex InlineScriptOrStyle();
}
