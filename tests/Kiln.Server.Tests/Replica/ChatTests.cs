using System.ClientModel;
using System.Text;
using System.Text.Json;
using Kiln.Server.Replica;
using OpenAI;
using OpenAI.Chat;

namespace Kiln.Server.Tests.Replica;

public class ChatTests
{
    private static ChatClient Client(TestReplica r) =>
        new OpenAIClient(new ApiKeyCredential("x"), new OpenAIClientOptions { Endpoint = new Uri(r.BaseAddress, "/v1") })
            .GetChatClient("fake-model.gguf");

    [Fact]
    public async Task Official_client_completes_a_chat()
    {
        await using var r = await TestReplica.StartAsync();
        var result = await Client(r).CompleteChatAsync([new SystemChatMessage("be brief"), new UserChatMessage("w")],
            new ChatCompletionOptions { Temperature = 0 });
        var completion = result.Value;
        Assert.Equal("xyz", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.StartsWith("chatcmpl-", completion.Id);
        Assert.Equal("fake-model.gguf", completion.Model);
        Assert.Equal(1, completion.Usage.InputTokenCount);
        Assert.Equal(4, completion.Usage.OutputTokenCount); // x, y, z and the end token
        Assert.Equal(5, completion.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task Official_client_honours_max_tokens()
    {
        await using var r = await TestReplica.StartAsync();
        var completion = (await Client(r).CompleteChatAsync([new UserChatMessage("a")],
            new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 3 })).Value;
        Assert.Equal("bcd", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
    }

    [Fact]
    public async Task Official_client_streams_a_chat()
    {
        await using var r = await TestReplica.StartAsync();
        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        await foreach (var update in Client(r).CompleteChatStreamingAsync([new UserChatMessage("a")],
            new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 6 }))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }
        Assert.Equal("bcdefg", text.ToString());
        Assert.Equal(ChatFinishReason.Length, finish);
        Assert.NotNull(usage); // the client asks for include_usage
        Assert.Equal(6, usage!.OutputTokenCount);
    }

    [Fact]
    public async Task Official_client_sees_errors_as_status_codes()
    {
        await using var r = await TestReplica.StartAsync();
        var e = await Assert.ThrowsAsync<ClientResultException>(() => Client(r).CompleteChatAsync(
            [new UserChatMessage("a")], new ChatCompletionOptions { Temperature = 3 }));
        Assert.Equal(400, e.Status);
        Assert.Contains("temperature", e.Message);
    }

    [Fact]
    public async Task Chat_logprobs_carry_ids_and_bytes()
    {
        await using var r = await TestReplica.StartAsync();
        var (status, body) = await r.PostAsync("/v1/chat/completions", new
        {
            messages = new object[] { new { role = "user", content = new[] { new { type = "text", text = "a" }, new { type = "text", text = "b" } } } },
            max_tokens = 2,
            temperature = 0,
            logprobs = true,
            top_logprobs = 2,
        });
        Assert.Equal(200, status);
        var choice = body.GetProperty("choices")[0];
        Assert.Equal("chat.completion", body.GetProperty("object").GetString());
        Assert.Equal("cd", choice.GetProperty("message").GetProperty("content").GetString()); // text parts joined: "ab"
        var content = choice.GetProperty("logprobs").GetProperty("content").EnumerateArray().ToArray();
        Assert.Equal(["c", "d"], content.Select(c => c.GetProperty("token").GetString()));
        Assert.All(content, c =>
        {
            Assert.True(c.GetProperty("logprob").GetDouble() <= 0);
            Assert.Equal(c.GetProperty("id").GetInt32(), c.GetProperty("bytes")[0].GetInt32());
            Assert.Equal(2, c.GetProperty("top_logprobs").GetArrayLength());
        });
    }

    [Fact]
    public async Task Raw_chat_stream_starts_with_the_role_and_ends_with_done()
    {
        await using var r = await TestReplica.StartAsync();
        var events = await r.StreamAsync("/v1/chat/completions", new
        {
            messages = new[] { new { role = "user", content = "a" } },
            max_tokens = 2,
            temperature = 0,
            stream = true,
            n = 2,
        });
        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e).RootElement).ToArray();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        foreach (var index in new[] { 0, 1 })
        {
            var mine = chunks.Select(c => c.GetProperty("choices")[0]).Where(c => c.GetProperty("index").GetInt32() == index).ToArray();
            Assert.Equal("assistant", mine[0].GetProperty("delta").GetProperty("role").GetString());
            Assert.Equal("bc", string.Concat(mine.Select(c => c.GetProperty("delta").TryGetProperty("content", out var t) ? t.GetString() : "")));
            Assert.Equal("length", mine[^1].GetProperty("finish_reason").GetString());
        }
    }

    [Fact]
    public async Task Chat_ignore_eos_generates_through_the_end_token_plain_and_streamed()
    {
        await using var r = await TestReplica.StartAsync();
        var messages = new[] { new { role = "user", content = "w" } };
        // 'z' predicts the end token, which yields no text and predicts 'a'.
        var (_, body) = await r.PostAsync("/v1/chat/completions", new { messages, max_tokens = 5, temperature = 0, ignore_eos = true });
        var choice = body.GetProperty("choices")[0];
        Assert.Equal("xyza", choice.GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(5, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());

        var events = await r.StreamAsync("/v1/chat/completions", new { messages, max_tokens = 5, temperature = 0, ignore_eos = true, stream = true });
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e).RootElement.GetProperty("choices")[0]).ToArray();
        Assert.Equal("xyza", string.Concat(chunks.Select(c => c.GetProperty("delta").TryGetProperty("content", out var t) ? t.GetString() : "")));
        Assert.Equal("length", chunks[^1].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public void ChatMl_formatter_writes_turns_and_the_generation_prompt()
    {
        var text = new ChatMlFormatter().Format([new ChatTurn("system", "s"), new ChatTurn("user", "u")], addGenerationPrompt: true);
        Assert.Equal("<|im_start|>system\ns<|im_end|>\n<|im_start|>user\nu<|im_end|>\n<|im_start|>assistant\n", text);
    }
}
