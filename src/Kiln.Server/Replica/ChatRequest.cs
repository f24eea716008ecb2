using System.Text;
using System.Text.Json;
using Kiln.Engine.Tokenizers;

namespace Kiln.Server.Replica;

/// <summary>A parsed <c>POST /v1/chat/completions</c> body.</summary>
internal sealed record ChatRequest(IReadOnlyList<ChatTurn> Messages, GenerationSettings Settings)
{
    private static readonly HashSet<string> Roles = ["system", "developer", "user", "assistant", "tool"];

    public static ChatRequest Parse(JsonElement body, ITokenizer tokenizer, int contextSize)
    {
        CommonChecks.Check(body);
        if (JsonFields.TryGet(body, "tools", out var tools) && (tools.ValueKind != JsonValueKind.Array || tools.GetArrayLength() > 0))
            throw ApiException.Unsupported("tools");
        if (JsonFields.TryGet(body, "functions", out _)) throw ApiException.Unsupported("functions");
        if (JsonFields.TryGet(body, "response_format", out var rf))
        {
            if (rf.ValueKind != JsonValueKind.Object) throw JsonFields.WrongType("response_format", "an object", rf);
            if (JsonFields.String(rf, "type") is { } t && t != "text") throw ApiException.Unsupported("response_format");
        }
        var settings = GenerationSettings.Parse(body, chat: true, tokenizer.VocabSize, contextSize);
        return new ChatRequest(ParseMessages(body), settings);
    }

    private static List<ChatTurn> ParseMessages(JsonElement body)
    {
        if (!JsonFields.TryGet(body, "messages", out var messages))
            throw ApiException.Invalid("Missing required parameter: 'messages'.", "messages", "missing_required_parameter");
        if (messages.ValueKind != JsonValueKind.Array) throw JsonFields.WrongType("messages", "an array", messages);
        if (messages.GetArrayLength() == 0) throw ApiException.Invalid("'messages' must contain at least one message.", "messages");

        var turns = new List<ChatTurn>();
        var i = 0;
        foreach (var m in messages.EnumerateArray())
        {
            var field = $"messages[{i++}]";
            if (m.ValueKind != JsonValueKind.Object) throw JsonFields.WrongType(field, "an object", m);
            if (!JsonFields.TryGet(m, "role", out var roleElement))
                throw ApiException.Invalid($"Missing required parameter: '{field}.role'.", $"{field}.role", "missing_required_parameter");
            if (roleElement.ValueKind != JsonValueKind.String) throw JsonFields.WrongType($"{field}.role", "a string", roleElement);
            var role = roleElement.GetString()!;
            if (!Roles.Contains(role))
                throw JsonFields.OutOfRange($"{field}.role", "one of 'system', 'developer', 'user', 'assistant', 'tool'", $"'{role}'");
            turns.Add(new ChatTurn(role, Content(m, $"{field}.content", role)));
        }
        return turns;
    }

    private static string Content(JsonElement message, string field, string role)
    {
        if (!JsonFields.TryGet(message, "content", out var c))
        {
            // Assistant turns may carry only tool calls, so their content may be absent.
            if (role == "assistant") return string.Empty;
            throw ApiException.Invalid($"Missing required parameter: '{field}'.", field, "missing_required_parameter");
        }
        if (c.ValueKind == JsonValueKind.String) return c.GetString()!;
        if (c.ValueKind != JsonValueKind.Array) throw JsonFields.WrongType(field, "a string or an array of content parts", c);

        var text = new StringBuilder();
        var i = 0;
        foreach (var part in c.EnumerateArray())
        {
            var partField = $"{field}[{i++}]";
            if (part.ValueKind != JsonValueKind.Object) throw JsonFields.WrongType(partField, "a content part object", part);
            var type = JsonFields.String(part, "type");
            if (type != "text")
                throw ApiException.Invalid($"Content part type '{type}' is not supported; only 'text' parts are.", $"{partField}.type");
            text.Append(JsonFields.String(part, "text")
                ?? throw ApiException.Invalid($"Missing required parameter: '{partField}.text'.", $"{partField}.text"));
        }
        return text.ToString();
    }
}
