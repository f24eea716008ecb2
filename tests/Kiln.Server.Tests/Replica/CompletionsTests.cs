using System.Text.Json;

namespace Kiln.Server.Tests.Replica;

public class CompletionsTests
{
    [Fact]
    public async Task String_prompt_completes_with_openai_fields()
    {
        await using var r = await TestReplica.StartAsync();
        var (status, body) = await r.PostAsync("/v1/completions", new { model = "fake-model.gguf", prompt = "a", max_tokens = 5, temperature = 0 });
        Assert.Equal(200, status);
        Assert.StartsWith("cmpl-", body.GetProperty("id").GetString());
        Assert.Equal("text_completion", body.GetProperty("object").GetString());
        Assert.Equal("fake-model.gguf", body.GetProperty("model").GetString());
        Assert.True(body.GetProperty("created").GetInt64() > 1_600_000_000);
        var choice = body.GetProperty("choices")[0];
        Assert.Equal(0, choice.GetProperty("index").GetInt32());
        Assert.Equal("bcdef", choice.GetProperty("text").GetString());
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(JsonValueKind.Null, choice.GetProperty("logprobs").ValueKind);
        var usage = body.GetProperty("usage");
        Assert.Equal(1, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(5, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(6, usage.GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task Batch_of_prompts_with_n_gives_indexed_choices()
    {
        await using var r = await TestReplica.StartAsync();
        var (status, body) = await r.PostAsync("/v1/completions", new { prompt = new[] { "a", "w" }, n = 2, max_tokens = 3, temperature = 0 });
        Assert.Equal(200, status);
        var choices = body.GetProperty("choices").EnumerateArray().ToArray();
        Assert.Equal([0, 1, 2, 3], choices.Select(c => c.GetProperty("index").GetInt32()));
        Assert.Equal(["bcd", "bcd", "xyz", "xyz"], choices.Select(c => c.GetProperty("text").GetString()));
        Assert.Equal(["length", "length", "length", "length"], choices.Select(c => c.GetProperty("finish_reason").GetString()));
        Assert.Equal(2, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(12, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Token_id_prompts_and_end_of_sequence()
    {
        await using var r = await TestReplica.StartAsync();
        var (_, body) = await r.PostAsync("/v1/completions", new { prompt = new[] { (int)'w', (int)'x' }, max_tokens = 10, temperature = 0 });
        Assert.Equal("yz", body.GetProperty("choices")[0].GetProperty("text").GetString());
        Assert.Equal("stop", body.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        var (_, nested) = await r.PostAsync("/v1/completions", "{\"prompt\":[[97],[98,99]],\"max_tokens\":1,\"temperature\":0}");
        Assert.Equal(["b", "d"], nested.GetProperty("choices").EnumerateArray().Select(c => c.GetProperty("text").GetString()));
    }

    [Fact]
    public async Task Ignore_eos_generates_through_the_end_token_to_max_tokens()
    {
        await using var r = await TestReplica.StartAsync();
        // 'z' predicts the end token, which yields no text and predicts 'a'.
        var (_, body) = await r.PostAsync("/v1/completions", new { prompt = "wx", max_tokens = 6, temperature = 0, ignore_eos = true });
        Assert.Equal("yzabc", body.GetProperty("choices")[0].GetProperty("text").GetString());
        Assert.Equal("length", body.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(6, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());

        var (_, off) = await r.PostAsync("/v1/completions", new { prompt = "wx", max_tokens = 6, temperature = 0, ignore_eos = false });
        Assert.Equal("yz", off.GetProperty("choices")[0].GetProperty("text").GetString());

        var (_, stopped) = await r.PostAsync("/v1/completions", new { prompt = "wx", max_tokens = 6, temperature = 0, ignore_eos = true, stop = new[] { "b" } });
        Assert.Equal("yza", stopped.GetProperty("choices")[0].GetProperty("text").GetString());
        Assert.Equal("stop", stopped.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task Stop_sequence_cuts_exactly()
    {
        await using var r = await TestReplica.StartAsync();
        var (_, body) = await r.PostAsync("/v1/completions", new { prompt = "a", max_tokens = 20, stop = new[] { "ef", "zz" }, temperature = 0 });
        Assert.Equal("bcd", body.GetProperty("choices")[0].GetProperty("text").GetString());
        Assert.Equal("stop", body.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task Echo_with_logprobs_scores_the_prompt_without_generating()
    {
        await using var r = await TestReplica.StartAsync();
        var (status, body) = await r.PostAsync("/v1/completions", new { prompt = "abd", max_tokens = 0, echo = true, logprobs = 2 });
        Assert.Equal(200, status);
        var choice = body.GetProperty("choices")[0];
        Assert.Equal("abd", choice.GetProperty("text").GetString());
        var lp = choice.GetProperty("logprobs");
        Assert.Equal(["a", "b", "d"], lp.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()));
        var values = lp.GetProperty("token_logprobs").EnumerateArray().ToArray();
        Assert.Equal(JsonValueKind.Null, values[0].ValueKind);
        Assert.True(values[1].GetDouble() > -0.1);   // "b" after "a" is what the model predicts
        Assert.True(values[2].GetDouble() < -5);     // "d" after "b" is not
        Assert.Equal([0, 1, 2], lp.GetProperty("text_offset").EnumerateArray().Select(o => o.GetInt32()));
        Assert.Equal(JsonValueKind.Null, lp.GetProperty("top_logprobs")[0].ValueKind);
        Assert.True(lp.GetProperty("top_logprobs")[2].TryGetProperty("c", out _));

        var content = lp.GetProperty("content").EnumerateArray().ToArray();
        Assert.Equal('d', content[2].GetProperty("id").GetInt32());
        Assert.Equal([(int)'d'], content[2].GetProperty("bytes").EnumerateArray().Select(b => b.GetInt32()));
        var top = content[2].GetProperty("top_logprobs")[0];
        Assert.Equal("c", top.GetProperty("token").GetString());
        Assert.Equal('c', top.GetProperty("id").GetInt32());
        Assert.Equal([(int)'c'], top.GetProperty("bytes").EnumerateArray().Select(b => b.GetInt32()));
        Assert.Equal(0, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Streaming_sends_chunks_usage_and_done()
    {
        await using var r = await TestReplica.StartAsync();
        var events = await r.StreamAsync("/v1/completions", new
        {
            prompt = "a",
            max_tokens = 4,
            temperature = 0,
            stream = true,
            stream_options = new { include_usage = true },
        });
        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e).RootElement).ToArray();
        Assert.All(chunks, c => Assert.Equal("text_completion", c.GetProperty("object").GetString()));
        Assert.Single(chunks.Select(c => c.GetProperty("id").GetString()).Distinct());
        var withChoices = chunks.Where(c => c.GetProperty("choices").GetArrayLength() > 0).ToArray();
        Assert.Equal("bcde", string.Concat(withChoices.Select(c => c.GetProperty("choices")[0].GetProperty("text").GetString())));
        Assert.Equal("length", withChoices[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        var usage = chunks[^1];
        Assert.Equal(0, usage.GetProperty("choices").GetArrayLength());
        Assert.Equal(4, usage.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(5, usage.GetProperty("usage").GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task Streaming_echo_sends_the_prompt_first()
    {
        await using var r = await TestReplica.StartAsync();
        var events = await r.StreamAsync("/v1/completions", new { prompt = "ab", max_tokens = 2, temperature = 0, stream = true, echo = true });
        var texts = events[..^1].Select(e => JsonDocument.Parse(e).RootElement.GetProperty("choices")[0].GetProperty("text").GetString()).ToArray();
        Assert.Equal("ab", texts[0]);
        Assert.Equal("abcd", string.Concat(texts));
    }
}
