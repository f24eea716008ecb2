using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Kiln.Server.Gateway;

/// <summary>
/// What a request is routed by: a session's key, which pins it to one replica, or a hash of its
/// prompt's leading part, which sends prompts that start alike to the replica likely to hold their
/// prefix in its cache. The gateway does not tokenize, so the prefix is characters: the first
/// <see cref="PrefixChars"/> of a completion's prompt, or of a chat's messages (role and text) up to
/// and including the first user message; that is the system prompt and the conversation's opening,
/// which every later turn of the conversation resends.
/// </summary>
public readonly record struct RoutingKey(ulong? Hash, bool Session)
{
    /// <summary>The header naming a session, as Fireworks names it; the body's <c>user</c> field is the fallback.</summary>
    public const string SessionHeader = "x-session-affinity";

    /// <summary>Characters of the leading prompt that are hashed.</summary>
    public const int PrefixChars = 1024;

    /// <summary>Leading token ids hashed when the prompt is given as tokens.</summary>
    public const int PrefixTokenIds = 256;

    /// <summary>No key: the request goes to the least loaded replica.</summary>
    public static RoutingKey None => default;

    /// <summary>The session header if given, else the body's session or prefix key.</summary>
    public static RoutingKey Of(IHeaderDictionary headers, RoutingKey fromBody)
        => headers.TryGetValue(SessionHeader, out var v) && v.ToString() is { Length: > 0 } session ? ForSession(session) : fromBody;

    public static RoutingKey ForSession(string session) => new(HashChars(session), Session: true);

    /// <summary>From a parsed inference body: its <c>user</c>, else its leading prompt or messages.</summary>
    public static RoutingKey FromBody(JsonElement root)
    {
        if (root.TryGetProperty("user", out var user) && user.ValueKind == JsonValueKind.String && user.GetString() is { Length: > 0 } u)
            return ForSession(u);
        var text = new StringBuilder();
        if (root.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
            LeadingMessages(messages, text);
        else if (root.TryGetProperty("prompt", out var prompt))
            LeadingPrompt(prompt, text);
        if (text.Length == 0) return None;
        var chars = text.Length > PrefixChars ? text.ToString(0, PrefixChars) : text.ToString();
        return new RoutingKey(HashChars(chars), Session: false);
    }

    private static void LeadingMessages(JsonElement messages, StringBuilder text)
    {
        foreach (var m in messages.EnumerateArray())
        {
            if (m.ValueKind != JsonValueKind.Object) return;
            var role = m.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
            text.Append(role).Append('\n');
            if (m.TryGetProperty("content", out var content)) AppendContent(content, text);
            text.Append('\n');
            if (role == "user" || text.Length >= PrefixChars) return;
        }
    }

    private static void AppendContent(JsonElement content, StringBuilder text)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            text.Append(content.GetString());
            return;
        }
        if (content.ValueKind != JsonValueKind.Array) return;
        foreach (var part in content.EnumerateArray())
            if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String)
                text.Append(t.GetString());
    }

    private static void LeadingPrompt(JsonElement prompt, StringBuilder text)
    {
        switch (prompt.ValueKind)
        {
            case JsonValueKind.String:
                text.Append(prompt.GetString());
                break;
            case JsonValueKind.Array when prompt.GetArrayLength() > 0:
                var first = prompt[0];
                if (first.ValueKind == JsonValueKind.String)
                {
                    text.Append(first.GetString());
                    break;
                }
                var n = 0;
                foreach (var id in prompt.EnumerateArray())
                {
                    if (n++ == PrefixTokenIds) break;
                    text.Append(id.GetRawText()).Append(',');
                }
                break;
        }
    }

    private static ulong HashChars(string s) => XxHash3.HashToUInt64(MemoryMarshal.AsBytes(s.AsSpan()));
}
