using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Kiln.Tests.Shared;

namespace Kiln.ControlPlane.Tests;

/// <summary>
/// A real <c>kiln server</c> under hostile input: seeded mutations of account and deployment bodies
/// get the control plane's <c>{code, message}</c> errors, inference bodies OpenAI's, never a 5xx or
/// a hang, and the server keeps answering.
/// </summary>
public class HostileInputTests
{
    private const string Accounts = """{"accountId":"acct","displayName":"A","tier":"standard","spendLimit":100.5}""";
    private const string Deployment = """{"baseModel":"stories","displayName":"d","minReplicaCount":0,"maxReplicaCount":1,"acceleratorType":"CPU","acceleratorCount":1,"precision":"FP32","enableAddons":false,"unusedAutoDeleteDuration":"3600s","autoscalingPolicy":{"scaleUpWindow":"30s","scaleDownWindow":"600s","scaleToZeroWindow":"3600s","loadTargets":{"default":0.8}}}""";
    private const string Completion = """{"model":"accounts/default/models/nope","prompt":"Once","max_tokens":2,"stream":false,"stream_options":{"include_usage":true}}""";

    private static HttpClient Client(KilnServer server)
    {
        var http = new HttpClient { BaseAddress = server.BaseUri, Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.AdminKey);
        return http;
    }

    private static async Task<(int Status, JsonElement Body)> SendAsync(HttpClient http, HttpMethod method, string path, byte[] body)
    {
        using var request = new HttpRequestMessage(method, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        // The client's timeout is the hang bound.
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var status = (int)response.StatusCode;
        Assert.True(status < 500, $"{status} for {method} {path}: {text}");
        return (status, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    private static void AssertControlPlaneError(int status, JsonElement body, string what)
    {
        if (status < 400) return;
        Assert.True(body.ValueKind == JsonValueKind.Object, what);
        Assert.Equal(JsonValueKind.String, body.GetProperty("code").ValueKind);
        Assert.Equal(JsonValueKind.String, body.GetProperty("message").ValueKind);
    }

    private static void AssertOpenAiError(int status, JsonElement body, string what)
    {
        Assert.True(status >= 400, what); // no replica serves "nope"
        var error = body.GetProperty("error");
        Assert.Equal(JsonValueKind.String, error.GetProperty("message").ValueKind);
        Assert.Equal(JsonValueKind.String, error.GetProperty("type").ValueKind);
        Assert.True(error.TryGetProperty("param", out _) && error.TryGetProperty("code", out _), what);
    }

    private static async Task AssertHealthyAsync(HttpClient http)
    {
        using var r = await http.GetAsync("/v1/accounts/default");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
    }

    [SharedFact]
    public async Task Mutated_bodies_never_get_a_5xx_and_keep_their_error_shapes()
    {
        using var server = await KilnServer.StartWithFakeReplicaAsync();
        using var admin = new Api(server.BaseUri, server.AdminKey);
        await Steps.ImportAsync(admin, "default", "stories", TestModels.Stories260K());
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/v1/accounts/default/deployments?deploymentId=base", Deployment)).Status);
        using var http = Client(server);
        var fuzz = new JsonFuzz(7);
        var started = Stopwatch.StartNew();

        for (var i = 0; i < 400; i++)
        {
            var (body, what) = fuzz.Mutate(Accounts.Replace("acct", $"acct{i}"));
            var (status, reply) = await SendAsync(http, HttpMethod.Post, "/v1/accounts", body);
            AssertControlPlaneError(status, reply, $"account case {i} {what}");
        }
        await AssertHealthyAsync(http);

        for (var i = 0; i < 400; i++)
        {
            var (body, what) = fuzz.Mutate(Deployment);
            var (status, reply) = await SendAsync(http, HttpMethod.Post, $"/v1/accounts/default/deployments?deploymentId=fz{i}", body);
            AssertControlPlaneError(status, reply, $"deployment case {i} {what}");
            if (status == 200) await admin.DeleteAsync($"/v1/accounts/default/deployments/fz{i}");

            (body, what) = fuzz.Mutate(Deployment);
            (status, reply) = await SendAsync(http, HttpMethod.Patch, "/v1/accounts/default/deployments/base", body);
            AssertControlPlaneError(status, reply, $"update case {i} {what}");
        }
        await AssertHealthyAsync(http);

        // The gateway answers in OpenAI's shape; a valid body waits for one directory refresh, so these run in parallel.
        var gate = new SemaphoreSlim(8);
        var cases = Enumerable.Range(0, 300).Select(i => (i, fuzz.Mutate(Completion))).ToArray();
        await Task.WhenAll(cases.Select(async c =>
        {
            await gate.WaitAsync();
            try
            {
                var (status, reply) = await SendAsync(http, HttpMethod.Post, "/v1/completions", c.Item2.Body);
                AssertOpenAiError(status, reply, $"inference case {c.i} {c.Item2.What}");
            }
            finally
            {
                gate.Release();
            }
        }));
        await AssertHealthyAsync(http);
        Console.WriteLine($"control-plane fuzz: 1,500 cases in {started.Elapsed.TotalSeconds:F1}s");
    }

    [SharedFact]
    public async Task Oversized_heads_and_bodies_and_huge_numbers_keep_each_surface_shape()
    {
        using var server = await KilnServer.StartAsync();
        using var http = Client(server);

        var big = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = new StringContent(Completion, Encoding.UTF8, "application/json") };
        big.Headers.Add("X-Big", new string('h', 60 * 1024));
        using (var r = await http.SendAsync(big))
        {
            Assert.Equal(431, (int)r.StatusCode);
            AssertOpenAiError(431, JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement, "431 on inference");
        }
        var bigAdmin = new HttpRequestMessage(HttpMethod.Get, "/v1/accounts/default");
        bigAdmin.Headers.Add("X-Big", new string('h', 60 * 1024));
        using (var r = await http.SendAsync(bigAdmin))
        {
            Assert.Equal(431, (int)r.StatusCode);
            AssertControlPlaneError(431, JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement, "431 on the control plane");
        }

        var huge = Encoding.UTF8.GetBytes(Completion.Replace("Once", new string('w', 20 << 20)));
        var (tooLarge, tooLargeBody) = await SendAsync(http, HttpMethod.Post, "/v1/completions", huge);
        Assert.Equal(413, tooLarge);
        AssertOpenAiError(tooLarge, tooLargeBody, "413");

        var (dup, dupBody) = await SendAsync(http, HttpMethod.Post, "/v1/completions", """{"model":"m","max_tokens":4,"max_tokens":5}"""u8.ToArray());
        Assert.Equal(400, dup);
        AssertOpenAiError(dup, dupBody, "duplicate key");

        var (spend, spendBody) = await SendAsync(http, HttpMethod.Post, "/v1/accounts", """{"accountId":"rich","spendLimit":1e400}"""u8.ToArray());
        Assert.Equal(400, spend);
        Assert.Equal("INVALID_ARGUMENT", spendBody.GetProperty("code").GetString());
        Assert.Contains("spendLimit", spendBody.GetProperty("message").GetString());
        var (targets, targetsBody) = await SendAsync(http, HttpMethod.Post, "/v1/accounts/default/deployments?deploymentId=x",
            """{"baseModel":"m","autoscalingPolicy":{"loadTargets":{"default":1e400}}}"""u8.ToArray());
        Assert.Equal(400, targets);
        Assert.Contains("loadTargets", targetsBody.GetProperty("message").GetString());
    }
}
