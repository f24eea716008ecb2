using System.Net;
using System.Text.Json;

namespace Kiln.Server.Tests.Replica;

public class ErrorTests
{
    private static void AssertError(int status, JsonElement body, int expectedStatus, string? param)
    {
        Assert.Equal(expectedStatus, status);
        var error = body.GetProperty("error");
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.Equal(JsonValueKind.String, error.GetProperty("type").ValueKind);
        Assert.True(error.TryGetProperty("code", out _));
        if (param is null) Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
        else Assert.Equal(param, error.GetProperty("param").GetString());
    }

    [Theory]
    [InlineData("{\"prompt\":\"a\",\"max_tokens\":\"ten\"}", "max_tokens")]
    [InlineData("{\"prompt\":\"a\",\"max_tokens\":-1}", "max_tokens")]
    [InlineData("{\"prompt\":\"a\",\"max_tokens\":1.5}", "max_tokens")]
    [InlineData("{\"prompt\":\"a\",\"max_tokens\":100000000000000}", "max_tokens")]
    [InlineData("{\"prompt\":\"a\",\"max_tokens\":5000}", "max_tokens")]
    [InlineData("{\"prompt\":\"a\",\"max_tokens\":256}", "max_tokens")]
    [InlineData("{\"prompt\":\"a\",\"n\":0}", "n")]
    [InlineData("{\"prompt\":\"a\",\"n\":100}", "n")]
    [InlineData("{\"prompt\":\"a\",\"logprobs\":21}", "logprobs")]
    [InlineData("{\"prompt\":\"a\",\"temperature\":2.5}", "temperature")]
    [InlineData("{\"prompt\":\"a\",\"temperature\":\"hot\"}", "temperature")]
    [InlineData("{\"prompt\":\"a\",\"top_p\":0}", "top_p")]
    [InlineData("{\"prompt\":\"a\",\"stop\":5}", "stop")]
    [InlineData("{\"prompt\":\"a\",\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}", "stop")]
    [InlineData("{\"prompt\":\"a\",\"stop\":[\"a\",1]}", "stop")]
    [InlineData("{\"prompt\":\"a\",\"stream\":\"yes\"}", "stream")]
    [InlineData("{\"prompt\":\"a\",\"echo\":1}", "echo")]
    [InlineData("{\"prompt\":\"a\",\"ignore_eos\":\"true\"}", "ignore_eos")]
    [InlineData("{\"prompt\":\"a\",\"ignore_eos\":1}", "ignore_eos")]
    [InlineData("{\"prompt\":\"a\",\"logit_bias\":{\"999\":1}}", "logit_bias")]
    [InlineData("{\"prompt\":\"a\",\"logit_bias\":{\"5\":-101}}", "logit_bias")]
    [InlineData("{\"prompt\":\"a\",\"seed\":\"x\"}", "seed")]
    [InlineData("{\"prompt\":\"a\",\"model\":5}", "model")]
    [InlineData("{\"prompt\":5}", "prompt")]
    [InlineData("{\"prompt\":[]}", "prompt")]
    [InlineData("{\"prompt\":[97,-1]}", "prompt")]
    [InlineData("{\"prompt\":[\"a\",5]}", "prompt[1]")]
    [InlineData("{\"max_tokens\":3}", "prompt")]
    [InlineData("{\"prompt\":\"\"}", "prompt")]
    public async Task Bad_completion_requests_get_400_naming_the_field(string json, string param)
    {
        await using var r = await TestReplica.StartAsync();
        var (status, body) = await r.PostAsync("/v1/completions", json);
        AssertError(status, body, 400, param);
        Assert.Equal("invalid_request_error", body.GetProperty("error").GetProperty("type").GetString());
    }

    [Theory]
    [InlineData("{\"messages\":\"hi\"}", "messages")]
    [InlineData("{\"messages\":[]}", "messages")]
    [InlineData("{\"messages\":[{\"role\":\"robot\",\"content\":\"x\"}]}", "messages[0].role")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":5}]}", "messages[0].content")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}]}]}", "messages[0].content[0].type")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"top_logprobs\":21,\"logprobs\":true}", "top_logprobs")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"top_logprobs\":2}", "top_logprobs")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"logprobs\":3}", "logprobs")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":0}", "max_tokens")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"explode\"}]}", "messages")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":[{\"type\":\"function\"}]}", "tools")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream_options\":true}", "stream_options")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"ignore_eos\":[true]}", "ignore_eos")]
    public async Task Bad_chat_requests_get_400_naming_the_field(string json, string param)
    {
        await using var r = await TestReplica.StartAsync();
        var (status, body) = await r.PostAsync("/v1/chat/completions", json);
        AssertError(status, body, 400, param);
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("")]
    [InlineData("[1,2]")]
    public async Task Unparseable_bodies_get_400(string json)
    {
        await using var r = await TestReplica.StartAsync();
        var (status, body) = await r.PostAsync("/v1/completions", json);
        AssertError(status, body, 400, null);
    }

    [Fact]
    public async Task A_prompt_longer_than_the_context_is_rejected()
    {
        await using var r = await TestReplica.StartAsync(contextLength: 16);
        var (status, body) = await r.PostAsync("/v1/completions", new { prompt = new string('a', 20) });
        AssertError(status, body, 400, "prompt");
        Assert.Equal("context_length_exceeded", body.GetProperty("error").GetProperty("code").GetString());
        var (chatStatus, chatBody) = await r.PostAsync("/v1/chat/completions", new { messages = new[] { new { role = "user", content = new string('a', 20) } } });
        AssertError(chatStatus, chatBody, 400, "messages");
    }

    [Fact]
    public async Task Unknown_routes_get_404_json()
    {
        await using var r = await TestReplica.StartAsync();
        using var response = await r.Http.GetAsync("/v1/nothing-here");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        AssertError(404, body, 404, null);
        using var wrongMethod = await r.Http.GetAsync("/v1/completions");
        Assert.True((int)wrongMethod.StatusCode is 404 or 405);
    }

    [Fact]
    public async Task A_full_queue_gets_429()
    {
        await using var r = await TestReplica.StartAsync(maxBatch: 1, maxQueue: 0);
        r.Model.Gate.Reset();
        var first = r.PostAsync("/v1/completions", new { prompt = "a", max_tokens = 2, temperature = 0 });
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!(await r.MetricsAsync()).Contains("kiln_batch_occupancy 1\n"))
        {
            Assert.True(DateTime.UtcNow < deadline, "the first request never took the slot");
            await Task.Delay(10);
        }
        using var full = await r.Http.PostAsync("/v1/completions", new StringContent("""{"prompt":"b","max_tokens":2}"""));
        var body = JsonDocument.Parse(await full.Content.ReadAsStringAsync()).RootElement;
        AssertError((int)full.StatusCode, body, 429, null);
        Assert.Contains("queue is full", body.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(TimeSpan.FromSeconds(1), full.Headers.RetryAfter?.Delta);
        r.Model.Gate.Set();
        Assert.Equal(200, (await first).Status);
    }
}
