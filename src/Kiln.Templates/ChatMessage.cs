using System.Text.Json;

namespace Kiln.Templates;

/// <summary>
/// One chat message as templates see it: a dict with "role" and "content" (None when null), plus
/// "name", "tool_calls" and "tool_call_id" only when given, since templates test `'tool_calls' in message`.
/// </summary>
public sealed record ChatMessage(string Role, string? Content, string? Name = null, JsonElement? ToolCalls = null, string? ToolCallId = null)
{
    internal object ToTemplateValue()
    {
        var d = new PyDict();
        d.Set("role", Role);
        d.Set("content", Content);
        if (Name is not null) d.Set("name", Name);
        if (ToolCalls is { } calls) d.Set("tool_calls", Py.FromJson(calls));
        if (ToolCallId is not null) d.Set("tool_call_id", ToolCallId);
        return d;
    }
}
