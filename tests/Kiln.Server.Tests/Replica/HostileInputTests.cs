using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Kiln.Server.Tests.Replica;

/// <summary>Oversized and malformed requests get a 4xx in OpenAI's shape, cheaply, never a 5xx.</summary>
public class HostileInputTests
{
    private static async Task<(int Status, JsonElement Error, HttpResponseMessage Response)> SendAsync(HttpClient http, HttpRequestMessage request)
    {
        var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        OpenAiShape.AssertError(text, request.RequestUri!.ToString());
        return ((int)response.StatusCode, JsonDocument.Parse(text).RootElement.GetProperty("error").Clone(), response);
    }

    private static HttpRequestMessage Post(string path, string json) =>
        new(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    [Fact]
    public async Task A_token_array_past_the_context_is_refused_before_it_is_read()
    {
        await using var r = await TestReplica.StartAsync(contextLength: 256);
        var ids = string.Join(",", Enumerable.Repeat("65", 257));
        var (status, error, _) = await SendAsync(r.Http, Post("/v1/completions", $$"""{"prompt":[{{ids}}],"max_tokens":1}"""));
        Assert.Equal(400, status);
        Assert.Equal("context_length_exceeded", error.GetProperty("code").GetString());
        Assert.Equal("prompt", error.GetProperty("param").GetString());

        var (batched, batchedError, _) = await SendAsync(r.Http, Post("/v1/completions", $$"""{"prompt":[[65],[{{ids}}]],"max_tokens":1}"""));
        Assert.Equal(400, batched);
        Assert.Equal("prompt[1]", batchedError.GetProperty("param").GetString());
    }

    [Theory]
    [InlineData("/v1/completions", """{"prompt":"PROMPT","max_tokens":1}""", "prompt")]
    [InlineData("/v1/chat/completions", """{"messages":[{"role":"user","content":"PROMPT"}],"max_tokens":1}""", "messages")]
    public async Task A_text_prompt_past_the_context_is_a_400(string path, string template, string param)
    {
        await using var r = await TestReplica.StartAsync(contextLength: 256);
        var (status, error, _) = await SendAsync(r.Http, Post(path, template.Replace("PROMPT", new string('w', 1 << 20))));
        Assert.Equal(400, status);
        Assert.Equal("context_length_exceeded", error.GetProperty("code").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task A_body_over_the_limit_is_a_413_whether_its_length_is_declared_or_streamed()
    {
        await using var r = await TestReplica.StartAsync(maxBodyBytes: 64 * 1024);
        var json = $$"""{"prompt":"{{new string('w', 100_000)}}","max_tokens":1}""";
        var (declared, error, _) = await SendAsync(r.Http, Post("/v1/completions", json));
        Assert.Equal(413, declared);
        Assert.Equal("request_too_large", error.GetProperty("code").GetString());

        var chunked = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(json))),
        };
        chunked.Headers.TransferEncodingChunked = true;
        chunked.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var (streamed, streamedError, _) = await SendAsync(r.Http, chunked);
        Assert.Equal(413, streamed);
        Assert.Equal("request_too_large", streamedError.GetProperty("code").GetString());

        // Within the limit the same route still serves.
        var (ok, _) = await r.PostAsync("/v1/completions", new { prompt = "hello", max_tokens = 1 });
        Assert.Equal(200, ok);
    }

    [Fact]
    public async Task Oversized_heads_get_431_and_414_in_the_openai_shape()
    {
        await using var r = await TestReplica.StartAsync();
        var big = Post("/v1/completions", """{"prompt":"a","max_tokens":1}""");
        big.Headers.Add("X-Big", new string('h', 60 * 1024));
        var (status, error, _) = await SendAsync(r.Http, big);
        Assert.Equal(431, status);
        Assert.Equal("request_header_fields_too_large", error.GetProperty("code").GetString());

        var (longTarget, targetError, _) = await SendAsync(r.Http, new HttpRequestMessage(HttpMethod.Get, "/v1/models/" + new string('m', 10_000)));
        Assert.Equal(414, longTarget);
        Assert.Equal("request_target_too_long", targetError.GetProperty("code").GetString());
    }

    [Theory]
    [InlineData("""{"prompt":"a","max_tokens":4,"max_tokens":5}""", null, "invalid_json")]
    [InlineData("""{"prompt":"a","max_tokens":1e400}""", "max_tokens", null)]
    [InlineData("""{"prompt":"a","max_tokens":1e30}""", "max_tokens", null)]
    [InlineData("""{"prompt":"a","n":-1e400}""", "n", null)]
    [InlineData("""{"prompt":"a","temperature":1e400}""", "temperature", null)]
    [InlineData("""{"prompt":"a","seed":1e400}""", "seed", null)]
    [InlineData("""{"prompt":"\ud800","max_tokens":1}""", null, "invalid_json")]
    [InlineData("""{"prompt":"a","\udc00":1}""", null, "invalid_json")]
    public async Task Duplicate_keys_huge_numbers_and_broken_strings_are_400s(string json, string? param, string? code)
    {
        await using var r = await TestReplica.StartAsync();
        var (status, error, _) = await SendAsync(r.Http, Post("/v1/completions", json));
        Assert.Equal(400, status);
        if (param is not null) Assert.Equal(param, error.GetProperty("param").GetString());
        if (code is not null) Assert.Equal(code, error.GetProperty("code").GetString());
    }

    [Theory]
    [InlineData("""{"user":"PAD","prompt":"a","max_tokens":4,"max_tokens":5}""")]
    [InlineData("""{"user":"PAD","prompt":"a","max_tokens":4}{}""")]
    [InlineData("""{"user":"PAD","prompt":"\ud800","max_tokens":4}""")]
    public async Task Large_bodies_are_checked_as_strictly_as_small_ones(string json)
    {
        await using var r = await TestReplica.StartAsync();
        var (status, error, _) = await SendAsync(r.Http, Post("/v1/completions", json.Replace("PAD", new string('p', 1 << 20))));
        Assert.Equal(400, status);
        Assert.Equal("invalid_json", error.GetProperty("code").GetString());
    }
}
