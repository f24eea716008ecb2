using System.Net.Http.Headers;
using Kiln.Tests.Shared;

namespace Kiln.Server.Tests.Replica;

/// <summary>
/// Sends seeded mutations of valid completions and chat bodies to a replica over HTTP: no answer may
/// be a 5xx or leave the OpenAI shapes, none may hang, and the replica must stay healthy.
/// </summary>
internal static class RequestFuzz
{
    public static readonly string[] CompletionBodies =
    [
        """{"model":"m","prompt":"Once upon a time","max_tokens":3,"temperature":0.7,"top_p":0.9,"n":1,"stream":false,"stop":["\n"],"logprobs":2,"echo":false,"seed":7,"logit_bias":{"5":1},"user":"u","presence_penalty":0,"frequency_penalty":0}""",
        """{"model":"m","prompt":[[1,2,3],[4,5]],"max_tokens":2,"temperature":0,"best_of":1,"suffix":null}""",
        """{"model":"m","prompt":["a b","c"],"max_tokens":2,"stream":true,"stream_options":{"include_usage":true},"echo":true,"logprobs":1}""",
    ];

    public static readonly string[] ChatBodies =
    [
        """{"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"Hi"}]}],"max_tokens":3,"temperature":0,"logprobs":true,"top_logprobs":2,"response_format":{"type":"text"},"tools":[],"seed":1,"n":2}""",
        """{"model":"m","messages":[{"role":"user","content":"Tell me"},{"role":"assistant","content":"ok"},{"role":"user","content":"more"}],"max_completion_tokens":2,"stream":true,"stream_options":{"include_usage":true},"stop":"x"}""",
    ];

    /// <summary>Runs <paramref name="cases"/> mutations; returns how many got 2xx (the rest got 4xx).</summary>
    public static async Task<int> RunAsync(HttpClient http, int seed, int cases)
    {
        var fuzz = new JsonFuzz(seed);
        var pick = new Random(seed);
        var ok = 0;
        for (var i = 0; i < cases; i++)
        {
            var chat = pick.Next(2) == 0;
            var bases = chat ? ChatBodies : CompletionBodies;
            var (body, what) = fuzz.Mutate(bases[pick.Next(bases.Length)]);
            var path = chat ? "/v1/chat/completions" : "/v1/completions";
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            // The client's timeout is the hang bound: a request that never ends fails the run.
            using var response = await http.PostAsync(path, content);
            var text = await response.Content.ReadAsStringAsync();
            OpenAiShape.Assert((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, text, $"case {i} {path} {what}");
            if (response.IsSuccessStatusCode) ok++;
            if (i % 100 == 99) await AssertHealthyAsync(http);
        }
        await AssertHealthyAsync(http);
        return ok;
    }

    public static async Task AssertHealthyAsync(HttpClient http)
    {
        using var health = await http.GetAsync("/health");
        Assert.Equal(200, (int)health.StatusCode);
    }
}

public class RequestFuzzTests
{
    [Fact]
    public async Task Mutated_bodies_never_get_a_5xx_or_leave_the_openai_shape()
    {
        await using var r = await TestReplica.StartAsync(contextLength: 256);
        r.Http.Timeout = TimeSpan.FromSeconds(10);
        var ok = await RequestFuzz.RunAsync(r.Http, seed: 20261204, cases: 1200);
        // Mutations that keep a body valid must still be served: the fuzz exercises both paths.
        Assert.InRange(ok, 1, 1199);
    }
}
