using System.Text.Json;

namespace Kiln.Server.Gateway;

/// <summary>Token counts of one response, as the replica reported them in its <c>usage</c> object.</summary>
public readonly record struct TokenUsage(long PromptTokens, long CompletionTokens)
{
    /// <summary>Reads <c>usage</c> from a response object; false when it has none (or a null one).</summary>
    public static bool TryRead(ReadOnlySpan<byte> json, out TokenUsage usage)
    {
        usage = default;
        var found = false;
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isUsage = reader.ValueTextEquals("usage"u8);
                reader.Read();
                if (!isUsage || reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }
                long prompt = 0, completion = 0;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var isPrompt = reader.ValueTextEquals("prompt_tokens"u8);
                    var isCompletion = reader.ValueTextEquals("completion_tokens"u8);
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Number)
                    {
                        if (isPrompt) prompt = reader.GetInt64();
                        else if (isCompletion) completion = reader.GetInt64();
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
                usage = new TokenUsage(prompt, completion);
                found = true;
            }
        }
        catch (JsonException)
        {
            return false;
        }
        return found;
    }
}
