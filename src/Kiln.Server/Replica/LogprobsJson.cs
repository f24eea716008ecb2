using System.Text.Json;
using Kiln.Engine.Serving;

namespace Kiln.Server.Replica;

/// <summary>
/// Logprobs in both OpenAI shapes. Each entry also carries <c>id</c> and <c>bytes</c>, as llama.cpp's
/// server does, so clients can rebuild text that is not valid UTF-8 token by token.
/// </summary>
internal static class LogprobsJson
{
    // JSON has no -Infinity; OpenAI reports impossible tokens as -9999.
    private static float Clamp(float logprob) => float.IsFinite(logprob) ? logprob : -9999f;

    /// <summary>Chat shape: <c>{"content":[...],"refusal":null}</c>.</summary>
    public static void WriteChat(Utf8JsonWriter w, IReadOnlyList<LogprobEntry>? entries)
    {
        if (entries is null)
        {
            w.WriteNull("logprobs");
            return;
        }
        w.WriteStartObject("logprobs");
        WriteContent(w, entries);
        w.WriteNull("refusal");
        w.WriteEndObject();
    }

    /// <summary>
    /// Legacy completions shape (tokens, token_logprobs, top_logprobs, text_offset) plus the rich
    /// <c>content</c> list. <paramref name="textOffset"/> is the running character offset in the choice text.
    /// </summary>
    public static void WriteCompletion(Utf8JsonWriter w, IReadOnlyList<LogprobEntry>? entries, ref int textOffset)
    {
        if (entries is null)
        {
            w.WriteNull("logprobs");
            return;
        }
        w.WriteStartObject("logprobs");
        w.WriteStartArray("tokens");
        foreach (var e in entries) w.WriteStringValue(e.Token);
        w.WriteEndArray();
        w.WriteStartArray("token_logprobs");
        foreach (var e in entries)
            if (e.Logprob is { } lp) w.WriteNumberValue(Clamp(lp)); else w.WriteNullValue();
        w.WriteEndArray();
        w.WriteStartArray("top_logprobs");
        foreach (var e in entries)
        {
            if (e.Logprob is null) { w.WriteNullValue(); continue; }
            w.WriteStartObject();
            foreach (var t in e.Top)
                if (!HasEarlier(e.Top, t)) w.WriteNumber(t.Token, Clamp(t.Logprob));
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("text_offset");
        foreach (var e in entries)
        {
            w.WriteNumberValue(textOffset);
            textOffset += e.Token.Length;
        }
        w.WriteEndArray();
        WriteContent(w, entries);
        w.WriteEndObject();
    }

    // Distinct ids can share display text; a JSON object must not repeat a key.
    private static bool HasEarlier(IReadOnlyList<TopLogprobEntry> top, TopLogprobEntry t)
    {
        foreach (var other in top)
        {
            if (ReferenceEquals(other, t)) return false;
            if (other.Token == t.Token) return true;
        }
        return false;
    }

    private static void WriteContent(Utf8JsonWriter w, IReadOnlyList<LogprobEntry> entries)
    {
        w.WriteStartArray("content");
        foreach (var e in entries)
        {
            w.WriteStartObject();
            w.WriteNumber("id", e.Id);
            w.WriteString("token", e.Token);
            if (e.Logprob is { } lp) w.WriteNumber("logprob", Clamp(lp)); else w.WriteNull("logprob");
            WriteBytes(w, e.Bytes);
            w.WriteStartArray("top_logprobs");
            foreach (var t in e.Top)
            {
                w.WriteStartObject();
                w.WriteNumber("id", t.Id);
                w.WriteString("token", t.Token);
                w.WriteNumber("logprob", Clamp(t.Logprob));
                WriteBytes(w, t.Bytes);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void WriteBytes(Utf8JsonWriter w, byte[] bytes)
    {
        w.WriteStartArray("bytes");
        foreach (var b in bytes) w.WriteNumberValue(b);
        w.WriteEndArray();
    }
}
